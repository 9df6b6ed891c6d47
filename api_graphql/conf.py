"""The settings of api_graphql, read in one place: ``settings.API_GRAPHQL``.

Every key has a documented default; see docs/OPERATIONS.md.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

#: Models never exposed unless listed in INCLUDE: credentials, sessions, permission
#: internals and the admin's own log.
DEFAULT_DENY = (
    "auth.*",
    "contenttypes.*",
    "sessions.*",
    "admin.*",
    "realtime.*",
)



@dataclass(frozen=True)
class GraphQLSettings:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    hidden_fields: tuple[str, ...] = ()
    #: ``"app.model.field"`` entries that only look secret (api_graphql/secrets.py).
    not_secret: tuple[str, ...] = ()
    default_page_size: int = 100
    max_page_size: int = 1000
    max_depth: int = 12
    max_aliases: int = 50
    max_complexity: int = 100_000
    max_query_length: int = 100_000
    introspection: str = "staff"  # "always", "staff" (staff + DEBUG), "never"
    graphiql: bool = True
    anonymous_read: tuple[str, ...] = ()
    #: App labels named as the project's own (bare class names) even when installed
    #: as a package; by default an app whose code is in site-packages is a package.
    project_apps: tuple[str, ...] = ()
    token_max_age: int = 3600
    login_attempts: int = 5
    login_window: int = 300
    ws_allowed_origins: tuple[str, ...] = ()
    ws_allow_no_origin: bool = True
    ws_max_message_size: int = 256 * 1024
    ws_max_subscriptions: int = 100
    ws_ping_interval: float = 15.0
    ws_pong_timeout: float = 30.0
    ws_init_timeout: float = 10.0
    ws_send_buffer: int = 1000
    #: Characters sent that the client has not yet shown it read (by answering a ping).
    ws_unacknowledged_limit: int = 4 * 1024 * 1024
    #: "exact": a cached read checks the models' versions in the database (one small
    #: query; never older than the last committed change). "stream": versions come from
    #: the change stream, no database work; another worker's write shows once its
    #: event arrives (about a millisecond). False: no result cache.
    result_cache: str | bool = "exact"
    #: Root fields read by one SQL statement compiled once per plan and permission
    #: scope, the JSON written by PostgreSQL (api_graphql.compiled); False: the reader.
    compiled_reads: bool = True
    result_cache_size: int = 1000
    result_cache_ttl: float = 60.0
    #: Rows one bulk write may touch (bulk_update / bulk_delete over a filter,
    #: bulk_create); more is refused with LIMIT_EXCEEDED and nothing is written.
    bulk_max_rows: int = 1000
    #: Uploads (GraphQL multipart requests, see api_graphql.uploads): bytes per file,
    #: files per request, and the content types any file field accepts (() = any).
    upload_max_bytes: int = 10 * 1024 * 1024
    upload_max_files: int = 10
    upload_content_types: tuple[str, ...] = ()
    #: Named URLs left out of the generated client's ``urls`` (fnmatch patterns).
    urls_exclude: tuple[str, ...] = ("admin:*",)
    extra: dict[str, Any] = field(default_factory=dict)


_KEYS = {
    "INCLUDE": "include",
    "EXCLUDE": "exclude",
    "HIDDEN_FIELDS": "hidden_fields",
    "NOT_SECRET": "not_secret",
    "DEFAULT_PAGE_SIZE": "default_page_size",
    "MAX_PAGE_SIZE": "max_page_size",
    "MAX_DEPTH": "max_depth",
    "MAX_ALIASES": "max_aliases",
    "MAX_COMPLEXITY": "max_complexity",
    "MAX_QUERY_LENGTH": "max_query_length",
    "INTROSPECTION": "introspection",
    "GRAPHIQL": "graphiql",
    "ANONYMOUS_READ": "anonymous_read",
    "PROJECT_APPS": "project_apps",
    "TOKEN_MAX_AGE": "token_max_age",
    "LOGIN_ATTEMPTS": "login_attempts",
    "LOGIN_WINDOW": "login_window",
    "WS_ALLOWED_ORIGINS": "ws_allowed_origins",
    "WS_ALLOW_NO_ORIGIN": "ws_allow_no_origin",
    "WS_MAX_MESSAGE_SIZE": "ws_max_message_size",
    "WS_MAX_SUBSCRIPTIONS": "ws_max_subscriptions",
    "WS_PING_INTERVAL": "ws_ping_interval",
    "WS_PONG_TIMEOUT": "ws_pong_timeout",
    "WS_INIT_TIMEOUT": "ws_init_timeout",
    "WS_SEND_BUFFER": "ws_send_buffer",
    "WS_UNACKNOWLEDGED_LIMIT": "ws_unacknowledged_limit",
    "RESULT_CACHE": "result_cache",
    "COMPILED_READS": "compiled_reads",
    "RESULT_CACHE_SIZE": "result_cache_size",
    "RESULT_CACHE_TTL": "result_cache_ttl",
    "BULK_MAX_ROWS": "bulk_max_rows",
    "UPLOAD_MAX_BYTES": "upload_max_bytes",
    "UPLOAD_MAX_FILES": "upload_max_files",
    "UPLOAD_CONTENT_TYPES": "upload_content_types",
    "URLS_EXCLUDE": "urls_exclude",
}


@functools.cache
def graphql_settings() -> GraphQLSettings:
    """The settings, read once (and again after ``override_settings`` changes them)."""
    raw: dict[str, Any] = dict(getattr(settings, "API_GRAPHQL", {}) or {})
    values: dict[str, Any] = {}
    for key, attr in _KEYS.items():
        if key in raw:
            value = raw.pop(key)
            values[attr] = tuple(value) if isinstance(value, list | tuple) else value
    values["extra"] = raw
    return GraphQLSettings(**values)


def _forget(setting: str, **kwargs: Any) -> None:
    if setting in ("API_GRAPHQL", "DEBUG"):
        graphql_settings.cache_clear()


setting_changed.connect(_forget, dispatch_uid="api_graphql.conf")
