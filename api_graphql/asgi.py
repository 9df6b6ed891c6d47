"""GraphQL over HTTP for ASGI servers: the project's middleware, in one thread hop.

Under ASGI, Django runs each sync middleware hook through its own hop to a thread
(and each signal receiver, and the response's close): measured at daphne, that
plumbing cost more than answering the query, and an empty MIDDLEWARE setting
doubled the requests per second. This handler runs the same middleware, in the
same order, around the same view, but the whole chain once in a thread, as WSGI
would. Every other path stays with Django's own ASGI handler.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import HttpResponseBase
from django.urls import set_script_prefix

GRAPHQL_PATHS = ("/graphql", "/graphql/")


class GraphQLHTTPHandler(ASGIHandler):
    def __init__(self) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        # A pool of threads, not one per request: their database connections are
        # returned to the pool at the end of each request (request_finished).
        response = await sync_to_async(self._respond, thread_sensitive=False)(scope, body_file)
        await self.send_response(response, send)

    def _respond(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        try:
            signals.request_started.send(sender=self.__class__, scope=scope)
            request, error_response = self.create_request(scope, body_file)
            response = self.get_response(request) if request is not None else error_response
            assert response is not None
            response.close()  # request_finished, in this thread: connections go back
            return response
        finally:
            body_file.close()


def graphql_http(application: Any, paths: tuple[str, ...] = GRAPHQL_PATHS) -> Any:
    """``application`` for every HTTP path but GraphQL's, which the lean handler serves."""
    handler = GraphQLHTTPHandler()

    async def dispatch(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("path") in paths:
            await handler(scope, receive, send)
        else:
            await application(scope, receive, send)

    return dispatch
