"""GraphQL over HTTP for ASGI servers: cache hits on the event loop, everything else
through the project's middleware in one thread hop.

Under ASGI, Django runs each sync middleware hook through its own hop to a thread
(and each signal receiver, and the response's close): measured at daphne, that
plumbing cost more than answering the query, and an empty MIDDLEWARE setting
doubled the requests per second. This handler runs the same middleware, in the
same order, around the same view, but the whole chain once in a thread, as WSGI
would (the *full path*). Every other path stays with Django's own ASGI handler.

The *loop path* answers, on the event loop and from memory, a query whose answer is
cached, when the versions are known without the database (``RESULT_CACHE =
"stream"`` with a live change stream) and the client's consistency cursor has been
seen. The caller is anonymous (no Authorization header, no session or messages
cookie, no Origin), or signed in by a session cookie or a bearer token: then one
statement on the process's asynchronous database connection tells who it is, as
Django's middleware would (``api_graphql.identity``: a logout or a password change
counts at once), and the answer is the one cached for that user's permission scope.
Its headers are the ones the full path's middleware gave the same kind of request
(learned from its last such answer), so the security headers are Django's own. A
mutation never takes the loop path: CSRF and everything else run as always.

It is used only when every middleware is one whose effect on a GraphQL query is
fixed whoever asks: Django's security, session, common, CSRF, authentication,
messages and clickjacking middleware, and any class that says so with
``graphql_loop_path = True``. Any other middleware sends every GraphQL request down
the full path, where it runs as always (one thread hop for the whole chain).
"""

from __future__ import annotations

import time
from typing import Any, Literal
from urllib.parse import parse_qs

import orjson
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import HttpResponseBase
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host
from django.urls import set_script_prefix
from django.utils.module_loading import import_string

from api_graphql import consistency, logs, tokens
from api_graphql.execution import executor_for
from api_graphql.identity import Credential, Identity, IdentityReader
from api_graphql.result_cache import version_source
from api_graphql.schema import get_schema

GRAPHQL_PATHS = ("/graphql", "/graphql/")
#: Django's middleware whose effect on an anonymous, cookie-less GraphQL query is a
#: fixed set of headers (or nothing): the loop path replays what they gave.
FIXED_EFFECT_MIDDLEWARE = frozenset({
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
})
#: Learned header sets kept (one per request kind: method, media type, scheme).
MAX_SHAPES = 64
#: Shape: (method, accepted media type, scheme, forwarded-scheme header value, caller:
#: "anonymous", "session" or "bearer").
Shape = tuple[str, str, str, str, str]


def loop_path_allowed() -> bool:
    """Whether every middleware declares a fixed effect (see the module docstring)."""
    if settings.PREPEND_WWW or getattr(settings, "DISALLOWED_USER_AGENTS", None):
        return False
    for path in settings.MIDDLEWARE:
        if path in FIXED_EFFECT_MIDDLEWARE:
            continue
        try:
            middleware = import_string(path)
        except ImportError:
            return False
        if getattr(middleware, "graphql_loop_path", False) is not True:
            return False
    return True


class LoopPath:
    """Cache hits answered on the event loop (see the module docstring)."""

    def __init__(self) -> None:
        self.allowed = loop_path_allowed()
        self.learned: dict[Shape, list[tuple[bytes, bytes]]] = {}
        hosts = list(settings.ALLOWED_HOSTS)
        if settings.DEBUG and not hosts:
            hosts = [".localhost", "127.0.0.1", "[::1]"]
        self.hosts = hosts
        self.identities = IdentityReader() if self.allowed else None

    def shape(self, scope: dict[str, Any], headers: dict[bytes, bytes]
              ) -> tuple[Shape, Credential | None] | None:
        """The kind of a request the loop path may answer and its credential, or None."""
        if not self.allowed or scope["method"] not in ("GET", "POST"):
            return None
        if b"origin" in headers:
            return None
        credential = self._credential(headers)
        if credential is False:
            return None
        host = headers.get(b"host", b"").decode("latin-1")
        domain, _ = split_domain_port(host)
        if not domain or not validate_host(domain, self.hosts):
            return None
        forwarded = ""
        proxy_header = settings.SECURE_PROXY_SSL_HEADER
        if proxy_header:
            meta_name = proxy_header[0].removeprefix("HTTP_").replace("_", "-").lower()
            forwarded = headers.get(meta_name.encode(), b"").decode("latin-1")
        scheme = scope.get("scheme", "http")
        if settings.SECURE_SSL_REDIRECT and scheme != "https" and not forwarded:
            return None
        from api_graphql.views import response_media

        media = response_media(headers.get(b"accept", b"").decode("latin-1"))
        caller = "anonymous" if credential is None else credential[0]
        return (scope["method"], media, scheme, forwarded, caller), credential

    def _credential(self, headers: dict[bytes, bytes]) -> Credential | Literal[False] | None:
        """The request's one credential, None for none, False when the loop path cannot
        tell who asks (a messages cookie, two credentials, identities unsupported)."""
        session = None
        cookie = headers.get(b"cookie")
        if cookie:
            names = parse_cookie(cookie.decode("latin-1"))
            if getattr(settings, "MESSAGE_COOKIE_NAME", "messages") in names:
                return False
            session = names.get(settings.SESSION_COOKIE_NAME)
        authorization = headers.get(b"authorization")
        if session is None and authorization is None:
            return None
        if self.identities is None or self.identities.unsupported is not None:
            return False
        if authorization is None:
            return ("session", session) if session else False
        token = tokens.strip_scheme(authorization.decode("latin-1"))
        if session is not None or token is None:
            return False
        return ("bearer", token)

    def learn(self, shape: Shape, response: HttpResponseBase) -> None:
        """Keep the headers the full path gave a query answered with 200."""
        if (response.status_code != 200 or response.cookies
                or getattr(response, "graphql_operation", None) != "query"):
            return
        if shape not in self.learned and len(self.learned) >= MAX_SHAPES:
            return
        self.learned[shape] = [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in response.items() if name.lower() != "content-length"
        ]

    def answer(self, scope: dict[str, Any], shape: Shape, scope_key: str | None,
               headers: dict[bytes, bytes], body: bytes
               ) -> tuple[list[tuple[bytes, bytes]], bytes] | None:
        """(headers, body) of a cache hit for the permission scope ``scope_key`` (None:
        the anonymous one), or None."""
        learned = self.learned.get(shape)
        if learned is None:
            return None
        source = version_source()
        ensure_live = getattr(source, "ensure_live", None)
        if ensure_live is not None:
            ensure_live()
        if scope["method"] == "GET":
            params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            if "query" not in params:
                return None
            try:
                raw = params.get("variables", [""])[0]
                payload = {"query": params["query"][0],
                           "variables": orjson.loads(raw) if raw else None,
                           "operationName": params.get("operationName", [None])[0] or None}
            except orjson.JSONDecodeError:
                return None
        else:
            content_type = headers.get(b"content-type", b"").split(b";")[0].strip()
            if content_type != b"application/json":
                return None
            try:
                payload = orjson.loads(body)
            except orjson.JSONDecodeError:
                return None
            if not isinstance(payload, dict):
                return None
        started = time.perf_counter()
        executor = executor_for(get_schema())
        cursor = consistency.decode(
            headers.get(consistency.HEADER.lower().encode(), b"").decode("latin-1") or None)
        entry = executor.memory_hit(payload.get("query"), payload.get("operationName"),
                                    payload.get("variables"), cursor,
                                    scope_key or executor.anonymous_scope)
        if entry is None:
            return None
        logs.loop_answers[shape[4]] += 1
        logs.operation(executor.prepare(payload["query"], payload.get("operationName")),
                       started, 200, entry.result)
        encoded = entry.as_json()  # encoded once per answer, not per request
        return [*learned, (b"content-length", str(len(encoded)).encode())], encoded


class GraphQLHTTPHandler(ASGIHandler):
    def __init__(self) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self.loop_path = LoopPath()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        headers = dict(scope.get("headers") or ())
        kind = self.loop_path.shape(scope, headers)
        shape, learning = None, None
        if kind is not None:
            shape, credential = kind
            scope_key, identity = None, None
            if credential is not None:
                assert self.loop_path.identities is not None
                identity = await self.loop_path.identities.identify(credential)
                if identity is not None:
                    scope_key = self.loop_path.identities.learned_scope(identity)
                    if scope_key is None:
                        learning = (credential, identity)
            if credential is None or scope_key is not None:
                answered = self.loop_path.answer(scope, shape, scope_key, headers,
                                                 body_file.read())
                if answered is not None:
                    body_file.close()
                    await send({"type": "http.response.start", "status": 200,
                                "headers": answered[0]})
                    await send({"type": "http.response.body", "body": answered[1]})
                    return
                body_file.seek(0)
            elif identity is None:
                shape = None  # an invalid credential: nothing to learn from the answer
        set_script_prefix(get_script_prefix(scope))
        # A pool of threads, not one per request: their database connections are
        # returned to the pool at the end of each request (request_finished).
        response = await sync_to_async(self._respond, thread_sensitive=False)(
            scope, body_file, shape, learning)
        await self.send_response(response, send)

    def _respond(self, scope: dict[str, Any], body_file: Any, shape: Shape | None,
                 learning: tuple[Credential, Identity] | None) -> HttpResponseBase:
        try:
            signals.request_started.send(sender=self.__class__, scope=scope)
            request, error_response = self.create_request(scope, body_file)
            response = self.get_response(request) if request is not None else error_response
            assert response is not None
            if shape is not None:
                self.loop_path.learn(shape, response)
            if learning is not None:
                self._learn_scope(*learning, response)
            response.close()  # request_finished, in this thread: connections go back
            return response
        finally:
            body_file.close()

    def _learn_scope(self, credential: Credential, identity: Identity,
                     response: HttpResponseBase) -> None:
        """Remember the permission scope Django's path computed for a signed-in user,
        if the user's rows read the same before (on the loop) and after it."""
        computed = getattr(response, "graphql_scope", None)
        identities = self.loop_path.identities
        if computed is None or identities is None or response.status_code != 200:
            return
        if identities.identify_sync(credential) == identity:
            identities.learn(identity, computed.key)


def graphql_http(application: Any, paths: tuple[str, ...] = GRAPHQL_PATHS) -> Any:
    """``application`` for every HTTP path but GraphQL's, which the lean handler serves."""
    handler = GraphQLHTTPHandler()

    async def dispatch(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("path") in paths:
            await handler(scope, receive, send)
        else:
            await application(scope, receive, send)

    return dispatch
