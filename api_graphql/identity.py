"""Who is asking, told without Django's request path: the event loop's authentication.

A cache hit for a signed-in user (``api_graphql.asgi``) must be exactly as safe as
Django's own path: a logout, a password change, a deactivated account or a revoked
permission takes effect on the very next request, on every worker. So nothing about
the caller is remembered between requests: each one reads, in one statement on the
process's own asynchronous PostgreSQL connection (no thread), what Django's session
and authentication middleware and ``ModelBackend`` would read (the session row, the
user's row, the user's and groups' permissions) and applies Django's rules to it:
the session's signature and expiry, the backend it names, the session auth hash
(or the bearer token's digest of it), ``is_active``.

The answer is an :class:`Identity`: the user's primary key and a *fingerprint* of
everything the rights were computed from (the whole user row and the permission
names). The permission scope for a fingerprint is learned from Django's path
(:meth:`IdentityReader.learned_scope`): a read rule that depends on anything else
(another table, the clock) must not be keyed this way, so it is used only for
models whose ``ModelConfig.read_filter_reads_only_user`` holds (see
:func:`supported`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.module_loading import import_string

from api_graphql import tokens

logger = logging.getLogger(__name__)

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
#: Session engines whose database row is the truth (a logout deletes it).
DATABASE_SESSIONS = frozenset({"django.contrib.sessions.backends.db",
                               "django.contrib.sessions.backends.cached_db"})
#: Decoded session payloads and verified token signatures kept (pure functions of
#: their text: only the work is saved, never a decision).
MAX_DECODED = 4096
#: Fingerprint -> permission scope learned from Django's path.
MAX_SCOPES = 4096
#: Database connections a process opens for identity checks (distinct credentials
#: checked side by side).
CONNECTIONS = 4

#: A credential: ("session", session key) or ("bearer", token).
Credential = tuple[str, str]
Rows = Sequence[Sequence[Any]]


@dataclass(frozen=True)
class Identity:
    user_pk: str
    fingerprint: str


def supported() -> str | None:
    """None when identities can be told here, else why not (then every signed-in
    request takes Django's path)."""
    from django.db import connections

    from api_graphql.schema import get_schema

    if connections["default"].vendor != "postgresql":
        return "the database is not PostgreSQL"
    if list(settings.AUTHENTICATION_BACKENDS) != [MODEL_BACKEND]:
        return "AUTHENTICATION_BACKENDS is not Django's ModelBackend alone"
    if settings.SESSION_ENGINE not in DATABASE_SESSIONS or settings.SESSION_SAVE_EVERY_REQUEST:
        return "sessions are not database rows read without a write"
    user_model = get_user_model()
    names = {f.name for f in user_model._meta.get_fields()}
    if not {"user_permissions", "groups", "password"} <= names:
        return "the user model has no PermissionsMixin"
    if user_model.get_session_auth_hash is not AbstractBaseUser.get_session_auth_hash:
        return "the user model overrides get_session_auth_hash"
    for spec in get_schema().graph:
        if not spec.config.reads_only_user():
            return f"{spec.label}'s read_filter may read more than the user's row"
    return None


class Statements:
    """The SQL of one identity check, from the models' own table and column names."""

    def __init__(self) -> None:
        from django.contrib.auth.models import Group, Permission
        from django.contrib.contenttypes.models import ContentType
        from django.contrib.sessions.models import Session
        from django.db import connection

        def q(name: str | None) -> str:
            assert name is not None
            return connection.ops.quote_name(name)

        user = get_user_model()._meta
        pk = q(user.pk.column)
        direct = user.get_field("user_permissions")
        groups = user.get_field("groups")
        granted = Group._meta.get_field("permissions")
        active = (f"u.{q(user.get_field('is_active').column)}"
                  if any(f.name == "is_active" for f in user.concrete_fields) else "TRUE")
        self.user = (
            f"SELECT u.{q(user.get_field('password').column)}, {active}, row_to_json(u)::text, "
            f"ARRAY(SELECT ct.{q('app_label')} || '.' || p.{q('codename')} "
            f"FROM {q(Permission._meta.db_table)} p "
            f"JOIN {q(ContentType._meta.db_table)} ct ON ct.{q('id')} = p.{q('content_type_id')} "
            f"WHERE p.{q('id')} IN ("
            f"SELECT x.{q(direct.m2m_reverse_name())} FROM {q(direct.m2m_db_table())} x "
            f"WHERE x.{q(direct.m2m_column_name())} = u.{pk} UNION "
            f"SELECT gp.{q(granted.m2m_reverse_name())} FROM {q(granted.m2m_db_table())} gp "
            f"JOIN {q(groups.m2m_db_table())} ug "
            f"ON ug.{q(groups.m2m_reverse_name())} = gp.{q(granted.m2m_column_name())} "
            f"WHERE ug.{q(groups.m2m_column_name())} = u.{pk}) ORDER BY 1) "
            f"FROM {q(user.db_table)} u WHERE u.{pk} = %s")
        session = Session._meta
        self.session = (
            f"SELECT {q(session.get_field('session_data').column)} FROM {q(session.db_table)} "
            f"WHERE {q(session.get_field('session_key').column)} = %s "
            f"AND {q(session.get_field('expire_date').column)} > %s")


class Rules:
    """Django's rules applied to the rows read (pure CPU; shared by both paths)."""

    def __init__(self) -> None:
        self.user_model = get_user_model()
        self.store = import_string(settings.SESSION_ENGINE).SessionStore
        self._sessions: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._tokens: OrderedDict[str, tuple[str, str, float] | None] = OrderedDict()
        self._hashes: OrderedDict[str, str] = OrderedDict()

    def session_user(self, session_data: str) -> tuple[str, str] | None:
        """(user pk, session auth hash) a session names, if ModelBackend's."""
        decoded = self._sessions.get(session_data)
        if decoded is None:
            decoded = self.store().decode(session_data)  # {} when tampered with
            _remember(self._sessions, session_data, decoded, MAX_DECODED)
        pk, backend, session_hash = (decoded.get(SESSION_KEY), decoded.get(BACKEND_SESSION_KEY),
                                     decoded.get(HASH_SESSION_KEY))
        if pk is None or backend != MODEL_BACKEND or not isinstance(session_hash, str):
            return None
        return str(pk), session_hash

    def token(self, token: str) -> tuple[str, str, float] | None:
        """(user pk, digest, expiry) a bearer token signs, or None."""
        if token not in self._tokens:
            try:
                verified: tuple[str, str, float] | None = tokens.verified(token)
            except tokens.InvalidToken:
                verified = None
            _remember(self._tokens, token, verified, MAX_DECODED)
        found = self._tokens[token]
        return None if found is None or found[2] <= time.time() else found

    def session_hash(self, password: str) -> str:
        """``user.get_session_auth_hash()`` (Django's own, a function of the password
        alone: :func:`supported` checks it is not overridden)."""
        found = self._hashes.get(password)
        if found is None:
            found = self.user_model(password=password).get_session_auth_hash()
            _remember(self._hashes, password, found, MAX_DECODED)
        return found

    def python_pk(self, pk: str) -> Any | None:
        try:
            return self.user_model._meta.pk.to_python(pk)
        except Exception:
            return None

    def identity(self, credential: Credential, pk: str, proof: str,
                 user_rows: Rows) -> Identity | None:
        """The identity when the user row confirms the credential's proof, else None."""
        if len(user_rows) != 1:
            return None
        password, active, row, permissions = user_rows[0]
        if not active:
            return None
        session_hash = self.session_hash(password)
        expected = session_hash if credential[0] == "session" else tokens.digest(session_hash)
        if not constant_time_compare(proof, expected):
            return None
        digest = hashlib.blake2b(row.encode(), digest_size=16)
        digest.update("\n".join(permissions).encode())
        return Identity(pk, digest.hexdigest())


class IdentityReader:
    """Identities on the event loop, and the scopes Django's path computed for them.

    Requests for the same credential that arrive while the database is busy share
    the next statement: it starts after each of them arrived, so each still sees
    every change committed before it was sent (a client sending many requests at once
    with one token pays one round trip per batch, not per request). Distinct
    credentials are checked side by side on up to :data:`CONNECTIONS` connections.
    """

    def __init__(self) -> None:
        self.unsupported = supported()
        self._idle: list[Any] = []
        self._open = 0
        self._free = asyncio.Condition()
        self._waiting: dict[Credential, list[asyncio.Future[Identity | None]]] = {}
        self._draining = False
        self._statements: Statements | None = None
        self._rules: Rules | None = None
        self._scopes: OrderedDict[str, str] = OrderedDict()

    @property
    def statements(self) -> Statements:
        if self._statements is None:
            self._statements = Statements()
        return self._statements

    @property
    def rules(self) -> Rules:
        if self._rules is None:
            self._rules = Rules()
        return self._rules

    async def identify(self, credential: Credential) -> Identity | None:
        """The identity behind a credential, or None (unknown, invalid, or the database
        could not be asked: the request then takes Django's path, which decides)."""
        answer: asyncio.Future[Identity | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(credential, []).append(answer)
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await answer

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, {}
                await asyncio.gather(*(self._answer(credential, answers)
                                       for credential, answers in batch.items()))
        finally:
            self._draining = False

    async def _answer(self, credential: Credential,
                      answers: list[asyncio.Future[Identity | None]]) -> None:
        identity = None
        try:
            async with self._connection() as connection:
                async def fetch(sql: str, params: tuple[Any, ...]) -> Rows:
                    # Prepared or not as Django's connections are (OPTIONS'
                    # prepare_threshold; off by default, for connection poolers).
                    cursor = await connection.execute(sql, params)
                    return await cursor.fetchall()

                identity = await self._resolve(credential, fetch)
        except Exception as error:
            logger.info("api_graphql: identity check on the loop failed: %s", error)
        for answer in answers:
            if not answer.done():
                answer.set_result(identity)

    async def close(self) -> None:
        """Close the idle connections (the process's end, or a test's)."""
        async with self._free:
            idle, self._idle = self._idle, []
            self._open -= len(idle)
        for connection in idle:
            await connection.close()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        """One of this process's connections (opened on demand, at most CONNECTIONS;
        one that failed is closed, not reused)."""
        async with self._free:
            while not self._idle and self._open >= CONNECTIONS:
                await self._free.wait()
            connection = self._idle.pop() if self._idle else None
            if connection is None:
                self._open += 1
        try:
            if connection is None:
                import psycopg
                from django.db import connections

                options = connections["default"].get_connection_params()
                options.pop("cursor_factory", None)  # Django's is synchronous
                connection = await psycopg.AsyncConnection.connect(**options, autocommit=True)
            yield connection
        except BaseException:
            if connection is not None:
                await connection.close()
            connection = None
            raise
        finally:
            async with self._free:
                if connection is not None:
                    self._idle.append(connection)
                else:
                    self._open -= 1
                self._free.notify()

    def identify_sync(self, credential: Credential) -> Identity | None:
        """The same on Django's connection (in a request thread)."""
        from django.db import connection

        def fetch(sql: str, params: tuple[Any, ...]) -> Rows:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()

        coroutine = self._resolve(credential, fetch)
        try:
            coroutine.send(None)
        except StopIteration as done:
            return done.value
        raise RuntimeError("identify_sync awaited")  # pragma: no cover

    async def _resolve(self, credential: Credential,
                       fetch: Callable[[str, tuple[Any, ...]], Any]) -> Identity | None:
        rules, statements = self.rules, self.statements
        kind, value = credential
        if kind == "session":
            rows = await _maybe(fetch(statements.session, (value, timezone.now())))
            named = rules.session_user(rows[0][0]) if len(rows) == 1 else None
        else:
            signed = rules.token(value)
            named = None if signed is None else signed[:2]
        if named is None:
            return None
        pk = rules.python_pk(named[0])
        if pk is None:
            return None
        user_rows = await _maybe(fetch(statements.user, (pk,)))
        return rules.identity(credential, named[0], named[1], user_rows)

    def learned_scope(self, identity: Identity) -> str | None:
        return self._scopes.get(identity.fingerprint)

    def learn(self, identity: Identity, scope_key: str) -> None:
        """Django's path computed ``scope_key`` for a user whose rows read as
        ``identity`` before and after it (so no change fell in between)."""
        _remember(self._scopes, identity.fingerprint, scope_key, MAX_SCOPES)


async def _maybe(value: Any) -> Any:
    """A fetch's rows, whether it returned them or a coroutine of them."""
    if hasattr(value, "__await__"):
        return await value
    return value


def _remember(table: OrderedDict[str, Any], key: str, value: Any, limit: int) -> None:
    table[key] = value
    table.move_to_end(key)
    if len(table) > limit:
        table.popitem(last=False)
