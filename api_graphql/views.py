"""GraphQL over HTTP, as a plain Django view.

Being a view means every request passes through the project's own middleware
(sessions, authentication, CSRF, anything custom) exactly as the origin promised.
Queries may use GET or POST; mutations need POST and, unless authenticated by a
bearer token, Django's CSRF token. Status codes follow the GraphQL-over-HTTP
spec: with ``application/graphql-response+json`` a request that cannot run gets
400; with ``application/json`` every well-formed request gets 200.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from api_graphql import consistency, encoding, logs, tokens, uploads
from api_graphql.conf import graphql_settings
from api_graphql.context import RequestContext
from api_graphql.errors import GraphQLUserError
from api_graphql.execution import RequestError, executor_for, may_introspect
from api_graphql.schema import get_schema

logger = logging.getLogger(__name__)
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def _response(body: dict[str, Any], status: int, content_type: str) -> HttpResponse:
    return HttpResponse(encoding.dumps_or_error(body), status=status, content_type=content_type)


def _errors(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def _accepts(request: HttpRequest) -> str:
    return response_media(request.headers.get("Accept", ""))


def response_media(accept: str) -> str:
    """The media type of the answer, from the request's Accept header."""
    if GRAPHQL_RESPONSE in accept and (JSON not in accept
                                       or accept.index(GRAPHQL_RESPONSE) < accept.index(JSON)):
        return GRAPHQL_RESPONSE
    return JSON


def _admin_login_url() -> str | None:
    """Where a staff user logs in, when the project mounts Django's admin."""
    try:
        return reverse("admin:login")
    except NoReverseMatch:
        return None


def _csrf_rejected(request: HttpRequest) -> bool:
    middleware = CsrfViewMiddleware(lambda r: HttpResponse())
    return middleware.process_view(request, None, (), {}) is not None  # type: ignore[arg-type]


@method_decorator(csrf_exempt, name="dispatch")
class GraphQLView(View):
    http_method_names = ["get", "post", "options"]

    def get(self, request: HttpRequest) -> HttpResponse:
        if "query" not in request.GET and "text/html" in request.headers.get("Accept", ""):
            if not graphql_settings().graphiql:
                return HttpResponse(status=404)
            get_token(request)  # the playground sends it back on mutations
            return render(request, "api_graphql/graphiql.html", {
                "endpoint": request.path,
                "introspection": may_introspect(getattr(request, "user", None)),
                "login_url": _admin_login_url(),
            })
        variables = request.GET.get("variables")
        try:
            parsed_variables = orjson.loads(variables) if variables else None
        except orjson.JSONDecodeError:
            return _response(_errors("variables is not valid JSON.", "BAD_REQUEST"), 400, JSON)
        return self._run(request, {
            "query": request.GET.get("query"),
            "variables": parsed_variables,
            "operationName": request.GET.get("operationName") or None,
        })

    def post(self, request: HttpRequest) -> HttpResponse:
        content_type = request.content_type or ""
        if content_type == "application/graphql":
            payload: Any = {"query": request.body.decode("utf-8", "replace")}
        elif content_type in (JSON, "") or content_type.endswith("+json"):
            try:
                payload = orjson.loads(request.body)
            except orjson.JSONDecodeError:
                return _response(_errors("The body is not valid JSON.", "BAD_REQUEST"), 400, JSON)
        elif content_type == "multipart/form-data":
            if uploads.request_too_large(request):
                return _response(_errors(
                    "The request is larger than the upload limits allow "
                    "(API_GRAPHQL['UPLOAD_MAX_BYTES'] x ['UPLOAD_MAX_FILES']).",
                    "LIMIT_EXCEEDED"), 413, _accepts(request))
            try:
                payload = uploads.multipart_payload(request)
            except GraphQLUserError as error:
                status = 413 if error.code == "LIMIT_EXCEEDED" else 400
                return _response({"errors": [error.as_dict()]}, status, _accepts(request))
        else:
            return _response(
                _errors(f"Unsupported content type {content_type!r}; send application/json "
                        "(or multipart/form-data with files).", "BAD_REQUEST"), 415, JSON)
        if not isinstance(payload, dict):
            return _response(_errors("The body must be a JSON object.", "BAD_REQUEST"), 400, JSON)
        return self._run(request, payload)

    def _run(self, request: HttpRequest, payload: dict[str, Any]) -> HttpResponse:
        media = _accepts(request)
        user = getattr(request, "user", AnonymousUser())
        bearer = tokens.strip_scheme(request.headers.get("Authorization"))
        if bearer is not None:
            try:
                user = tokens.authenticate(bearer).user
            except tokens.InvalidToken as error:
                return _response(_errors(f"Unauthorized: {error}.", "UNAUTHENTICATED"), 401, media)
        query = payload.get("query")
        operation_name = payload.get("operationName")
        if operation_name is not None and not isinstance(operation_name, str):
            return _response(_errors("operationName must be a string.", "BAD_REQUEST"), 400, media)
        built = get_schema()
        executor = executor_for(built)
        context = RequestContext(built, user, request, "http",
                                 client_address=str(request.META.get("REMOTE_ADDR", "unknown")),
                                 consistency=consistency.decode(
                                     request.headers.get(consistency.HEADER)))
        started, prepared = time.perf_counter(), None
        written: dict[str, int] = {}
        try:
            prepared = executor.prepare(query, operation_name)  # type: ignore[arg-type]
            if prepared.kind == "mutation":
                if request.method != "POST":
                    return _response(_errors("Mutations need POST.", "BAD_REQUEST"), 405, media)
                if bearer is None and _csrf_rejected(request):
                    return _response(_errors(
                        "CSRF verification failed: send the csrftoken cookie and the "
                        "X-CSRFToken header, or authenticate with a bearer token.",
                        "CSRF_FAILED"), 403, media)
            if prepared.kind == "subscription":
                raise RequestError([{"message": "Subscriptions need the WebSocket endpoint."}])
            with consistency.collecting() as written:
                result = executor.execute_prepared(context, prepared, payload.get("variables"))
            status = 200
        except RequestError as error:
            result = {"errors": error.errors}
            status = error.status if media == GRAPHQL_RESPONSE else 200
        logs.operation(prepared, started, status, result)
        response = _response(result, status, media)
        if written:
            response[consistency.HEADER] = consistency.encode(written)
        #: What the handler may learn from (api_graphql.asgi): the kind of operation.
        response.graphql_operation = prepared.kind if prepared is not None else None  # type: ignore[attr-defined]
        #: And whose rights answered it (the handler learns a signed-in user's scope).
        response.graphql_scope = context.scope  # type: ignore[attr-defined]
        return response
