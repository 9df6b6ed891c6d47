"""Everything the demo project reads from the environment, in one place.

No environment at all gives the embedded setup (SQLite, in-memory channel layer);
``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and Redis.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def database_from_url(url: str | None, sqlite_path: Path) -> dict[str, Any]:
    """Django's DATABASES["default"] for a ``postgres://`` or ``sqlite:///path`` URL;
    no URL means the SQLite file of the project."""
    if url and url.startswith("sqlite:///"):
        sqlite_path = Path(unquote(url[len("sqlite:///"):]))
        url = None
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(sqlite_path),
            # IMMEDIATE transactions take the write lock up front, so two processes
            # never deadlock upgrading a read lock; WAL lets readers run beside a writer.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            "TEST": {"NAME": str(sqlite_path.with_name("test_db.sqlite3"))},
        }
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ValueError(f"DATABASE_URL must be a postgres:// URL, got {parsed.scheme!r}")
    query = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
    # Under ASGI Django runs each request's sync code on a thread of its own, so
    # persistent connections would open one per request thread (measured: 43 for one
    # worker under load). Django's psycopg pool is the default; ?pool_max_size=0 turns
    # it off (a connection per request). TimeZone=UTC spares the SET on each new
    # connection when the server's default is spelled differently (Etc/UTC).
    pool_size = int(query.pop("pool_max_size", "8"))
    options: dict[str, Any] = {"options": "-c TimeZone=UTC", **query}
    if pool_size > 0:
        options["pool"] = {"min_size": 2, "max_size": pool_size, "timeout": 10}
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")) or "postgres",
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
        "OPTIONS": options,
        "CONN_MAX_AGE": 0,
        # A pooled connection is checked before it is handed out: after a database
        # restart the pool would otherwise hand out connections that are dead.
        "CONN_HEALTH_CHECKS": True,
    }


def channel_layer_from_url(url: str | None, prefix: str | None = None) -> dict[str, Any]:
    """The in-memory layer, or Redis Pub/Sub. Pub/Sub channels ignore Redis' database
    number, so deployments sharing one Redis keep apart by ``prefix`` (REDIS_PREFIX)."""
    if not url:
        return {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    return {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [url], "prefix": prefix or "asgi"},
    }


def celery_broker(redis_url: str | None, prefix: str | None, folder: Path
                  ) -> tuple[str, dict[str, Any]]:
    """Celery's broker: Redis when ``REDIS_URL`` is set (keys under ``prefix``), else
    kombu's filesystem transport in ``folder``, a broker that needs no server: messages
    are files, so a worker process and the web server share it on one machine."""
    if redis_url:
        return redis_url, {"global_keyprefix": f"{prefix or 'asgi'}:celery:"}
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return "filesystem://", {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
        # A folder is polled: every 0.1 s keeps a start under a second (kombu: 1 s).
        "polling_interval": 0.1,
    }


def logging_config(level: str | None, log_format: str | None) -> dict[str, Any]:
    """Django's LOGGING: every record to stderr, plain text or one JSON object per
    line (``LOG_FORMAT=json``). LOG_LEVEL=INFO adds a line per GraphQL operation
    and per HTTP request served by ``manage.py serve``."""
    if log_format not in (None, "", "plain", "json"):
        raise ValueError(f"LOG_FORMAT must be plain or json, got {log_format!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
            "json": {"()": "api_graphql.logs.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if log_format == "json" else "plain",
            },
        },
        "root": {"handlers": ["console"], "level": (level or "WARNING").upper()},
    }
