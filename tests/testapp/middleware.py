"""A project's own middleware: the tests check it runs for GraphQL requests."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class RequestTagMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.tagged_by_middleware = True  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-Tag"] = "seen"
        return response


class FixedTagMiddleware(RequestTagMiddleware):
    """The same, declared safe for the loop path: its header never varies."""

    graphql_loop_path = True
