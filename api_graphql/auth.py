"""Authentication fields: ``me``, ``csrf_token``, ``login``, ``logout``, tokens.

Sessions are Django's own (``django.contrib.auth.login``), so the admin and the
API share one login. Failed logins are throttled per username and per client
address, and the answer never says whether the username exists.
"""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Any

import strawberry
from django.contrib import auth as django_auth
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.middleware.csrf import get_token

from api_graphql import tokens, type_factory
from api_graphql.conf import graphql_settings
from api_graphql.errors import GraphQLUserError, LimitExceeded, NotAuthenticated
from api_graphql.model_graph import ModelGraph
from api_graphql.root_fields import RootField
from api_graphql.selection import TYPENAME, FieldSelection
from api_graphql.type_factory import REQUIRED

if TYPE_CHECKING:
    from api_graphql.context import RequestContext

CURRENT_USER = "CurrentUser"
LOGIN_PAYLOAD = "LoginPayload"
TOKEN_PAYLOAD = "TokenPayload"
INVALID_CREDENTIALS = "Invalid username or password."


def _current_user(user: Any, selection: FieldSelection) -> dict[str, Any] | None:
    if user is None or not user.is_authenticated:
        return None
    values = {
        "id": str(user.pk),
        "username": user.get_username(),
        "email": getattr(user, "email", "") or "",
        "first_name": getattr(user, "first_name", "") or "",
        "last_name": getattr(user, "last_name", "") or "",
        "is_staff": bool(getattr(user, "is_staff", False)),
        "is_superuser": bool(getattr(user, "is_superuser", False)),
        TYPENAME: CURRENT_USER,
    }
    result: dict[str, Any] = {}
    for key, child in (selection.children or {}).items():
        if child.name == "permissions":
            result[key] = sorted(user.get_all_permissions())
        else:
            result[key] = values[child.name]
    return result


class LoginThrottle:
    """At most LOGIN_ATTEMPTS failures per username and per address in LOGIN_WINDOW s."""

    def __init__(self, username: str, address: str) -> None:
        digest = hashlib.sha256(username.lower().encode()).hexdigest()[:24]
        self.keys = [f"api_graphql:login:user:{digest}", f"api_graphql:login:addr:{address}"]

    def retry_after(self) -> int:
        conf = graphql_settings()
        now = time.time()
        for key in self.keys:
            failures = [t for t in cache.get(key, []) if now - t < conf.login_window]
            if len(failures) >= conf.login_attempts:
                return int(conf.login_window - (now - failures[0])) + 1
        return 0

    def failed(self) -> None:
        window = graphql_settings().login_window
        now = time.time()
        for key in self.keys:
            failures = [t for t in cache.get(key, []) if now - t < window]
            cache.set(key, [*failures, now], window)

    def succeeded(self) -> None:
        cache.delete(self.keys[0])


def _check_credentials(context: RequestContext, username: str, password: str) -> Any:
    throttle = LoginThrottle(username, context.client_address)
    wait = throttle.retry_after()
    if wait:
        raise LimitExceeded(
            f"Too many failed logins; try again in {wait} seconds.", retry_after=wait
        )
    user = django_auth.authenticate(context.request, username=username, password=password)
    if user is None:
        throttle.failed()
        raise GraphQLUserError(INVALID_CREDENTIALS, reason="invalid_credentials")
    throttle.succeeded()
    return user


def _pick(selection: FieldSelection, values: dict[str, Any], type_name: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, child in (selection.children or {}).items():
        if child.name == TYPENAME:
            result[key] = type_name
        elif child.name == "user":
            result[key] = _current_user(values["user"], child)
        else:
            result[key] = values[child.name]
    return result


def me(context: RequestContext, selection: FieldSelection) -> Any:
    return _current_user(context.user, selection)


def csrf_token(context: RequestContext, selection: FieldSelection) -> Any:
    if context.request is None:
        raise GraphQLUserError("csrf_token is only available over HTTP.")
    return get_token(context.request)


def login(context: RequestContext, selection: FieldSelection) -> Any:
    args = selection.args
    user = _check_credentials(context, args["username"], args["password"])
    if context.request is not None:
        django_auth.login(context.request, user)
    context.reset_user(user)
    context.events.append("login")
    return _pick(selection, {"user": user}, LOGIN_PAYLOAD)


def logout(context: RequestContext, selection: FieldSelection) -> Any:
    was_authenticated = bool(context.user and context.user.is_authenticated)
    if context.request is not None:
        django_auth.logout(context.request)
    context.reset_user(AnonymousUser())
    context.events.append("logout")
    return was_authenticated


def token_auth(context: RequestContext, selection: FieldSelection) -> Any:
    args = selection.args
    user = _check_credentials(context, args["username"], args["password"])
    token, expires_at = tokens.issue(user)
    return _pick(selection, {"token": token, "expires_at": expires_at, "user": user},
                 TOKEN_PAYLOAD)


def refresh_token(context: RequestContext, selection: FieldSelection) -> Any:
    user = context.user
    if user is None or not user.is_authenticated:
        raise NotAuthenticated("Log in or send a valid token to refresh it.")
    token, expires_at = tokens.issue(user)
    return _pick(selection, {"token": token, "expires_at": expires_at, "user": user},
                 TOKEN_PAYLOAD)


def auth_fields(graph: ModelGraph) -> list[RootField]:
    current = type_factory.object_type(
        CURRENT_USER,
        {
            "id": strawberry.ID,
            "username": str,
            "email": str,
            "first_name": str,
            "last_name": str,
            "is_staff": bool,
            "is_superuser": bool,
            "permissions": list[str],
        },
        description="The logged-in user (django.contrib.auth), never their password.",
    )
    login_payload = type_factory.object_type(LOGIN_PAYLOAD, {"user": current})
    token_payload = type_factory.object_type(
        TOKEN_PAYLOAD, {"token": str, "expires_at": float, "user": current},
        description="A bearer token and when it expires (Unix seconds).",
    )
    credentials = {"username": (str, REQUIRED), "password": (str, REQUIRED)}
    return [
        RootField("me", "query", current | None, me, description="The current user, or null."),
        RootField("csrf_token", "query", str, csrf_token,
                  description="Django's CSRF token; also sets the csrftoken cookie."),
        RootField("login", "mutation", login_payload, login, credentials,
                  "Log in with Django's session (HTTP) or for this socket (WebSocket)."),
        RootField("logout", "mutation", bool, logout, description="End the session."),
        RootField("token_auth", "mutation", token_payload, token_auth, credentials,
                  "A bearer token for clients without cookies."),
        RootField("refresh_token", "mutation", token_payload, refresh_token,
                  description="A fresh token for the current user."),
    ]
