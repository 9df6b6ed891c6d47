"""Errors a client may cause, each with a stable code in ``extensions.code``."""

from __future__ import annotations

from typing import Any


class GraphQLUserError(Exception):
    """A request we refuse with a clear message; never a 500."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions

    def as_dict(self, path: list[str | int] | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message}
        if path is not None:
            error["path"] = path
        error["extensions"] = {"code": self.code, **self.extensions}
        return error


class PermissionDenied(GraphQLUserError):
    code = "FORBIDDEN"


class NotAuthenticated(GraphQLUserError):
    code = "UNAUTHENTICATED"


class LimitExceeded(GraphQLUserError):
    code = "LIMIT_EXCEEDED"
