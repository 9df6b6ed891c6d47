"""The context of one GraphQL request (or one WebSocket connection)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from api_graphql.permissions import Scope
from api_graphql.reader import Reader

if TYPE_CHECKING:
    from django.http import HttpRequest

    from api_graphql.schema import BuiltSchema


@dataclass
class RequestContext:
    """Who is asking, and through what; handlers read everything from here."""

    built: BuiltSchema
    user: Any
    request: HttpRequest | None = None
    #: "http" or "websocket": mutations that set cookies need the HTTP request.
    transport: str = "http"
    #: The peer's address, for throttling failed logins per client.
    client_address: str = "unknown"
    #: Set by login/logout so the transport can react (restart a socket, etc.).
    events: list[str] = field(default_factory=list)
    #: The client's consistency cursor: answers at least this fresh.
    consistency: dict[str, int] | None = None
    scope: Scope = field(init=False)
    reader: Reader = field(init=False)

    def __post_init__(self) -> None:
        self.reset_user(self.user)

    def reset_user(self, user: Any) -> None:
        """A login or logout changes whose rights apply to the rest of the request."""
        self.user = user
        self.scope = Scope(user, self.built.graph)
        self.reader = Reader(self.built.graph, self.scope)
