"""Bearer tokens for the project's own Django views.

The GraphQL view reads ``Authorization: Bearer <token>`` itself; this middleware
lets every other view of the project accept the same token, so a TypeScript client
holding one reaches a legacy view (``client.fetch(urls.article_detail({pk: 1}))``)
as the user it names. Put it after ``AuthenticationMiddleware``::

    MIDDLEWARE = [..., "django.contrib.auth.middleware.AuthenticationMiddleware",
                  "api_graphql.middleware.BearerTokenMiddleware", ...]

A request authenticated this way is exempt from CSRF: a bearer token is never sent
by a browser on its own, which is what CSRF protects against. An invalid or expired
token gets 401 with a JSON body, never the anonymous user (the GraphQL view keeps
answering it with its own GraphQL error).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from api_graphql import tokens


class BearerTokenMiddleware:
    #: No effect on a request without an Authorization header, the only kind the
    #: event-loop path of api_graphql.asgi answers.
    graphql_loop_path = True

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        bearer = tokens.strip_scheme(request.headers.get("Authorization"))
        if bearer is not None:
            try:
                request.user = tokens.authenticate(bearer).user
            except tokens.InvalidToken as error:
                request.bearer_error = str(error)  # type: ignore[attr-defined]
            else:
                # Read by CsrfViewMiddleware.process_view, which runs after every
                # middleware's request phase.
                request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Any, view_args: Any,
                     view_kwargs: Any) -> HttpResponse | None:
        from api_graphql.views import GraphQLView

        error = getattr(request, "bearer_error", None)
        if error is None or getattr(view_func, "view_class", None) is GraphQLView:
            return None
        response = JsonResponse({"error": f"Unauthorized: {error}."}, status=401)
        response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
