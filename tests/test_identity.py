"""api_graphql.identity: the caller told from the database as Django's session and
authentication middleware would, on PostgreSQL (elsewhere it says why it cannot)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import Client
from django.utils import timezone

from api_graphql import tokens
from api_graphql.identity import Identity, IdentityReader, supported
from tests.conftest import PASSWORD, exposed_permissions

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reader() -> Iterator[IdentityReader]:
    """A reader whose loop-side checks all run on one event loop, as in a server."""
    if connection.vendor != "postgresql":
        assert supported() == "the database is not PostgreSQL"
        pytest.skip("identities are read on PostgreSQL only (the reason was checked)")
    found = IdentityReader()
    assert found.unsupported is None
    found.loop = asyncio.new_event_loop()  # type: ignore[attr-defined]
    yield found
    found.loop.run_until_complete(found.close())  # type: ignore[attr-defined]
    found.loop.close()  # type: ignore[attr-defined]


def signed_in(user: Any) -> str:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client.cookies["sessionid"].value


def both(reader: IdentityReader, credential: tuple[str, str]) -> Identity | None:
    """The loop's answer, checked against the request thread's for the same rows."""
    on_loop = reader.loop.run_until_complete(reader.identify(credential))  # type: ignore[attr-defined]
    assert on_loop == reader.identify_sync(credential)
    return on_loop


def test_a_session_names_its_user_until_logout(reader: IdentityReader, make_user: Any) -> None:
    user = make_user("ada")
    key = signed_in(user)
    identity = both(reader, ("session", key))
    assert identity is not None and identity.user_pk == str(user.pk)
    SessionStore(session_key=key).delete()  # what logout() does
    assert both(reader, ("session", key)) is None


def test_an_expired_forged_or_foreign_session_is_nobody(reader: IdentityReader,
                                                        make_user: Any) -> None:
    user = make_user("ada")
    key = signed_in(user)
    from django.contrib.sessions.models import Session

    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(1))
    assert both(reader, ("session", key)) is None
    assert both(reader, ("session", "x" * 32)) is None
    # Signed for another backend, or tampered with: Django would not take it either.
    other = SessionStore()
    other.update({"_auth_user_id": str(user.pk), "_auth_user_hash": user.get_session_auth_hash(),
                  "_auth_user_backend": "django.contrib.auth.backends.RemoteUserBackend"})
    other.create()
    assert both(reader, ("session", other.session_key or "")) is None
    Session.objects.filter(session_key=other.session_key).update(session_data="tampered:data")
    assert both(reader, ("session", other.session_key or "")) is None


def test_a_password_change_or_deactivation_ends_sessions_and_tokens(
        reader: IdentityReader, make_user: Any) -> None:
    user = make_user("ada")
    key, token = signed_in(user), tokens.issue(user)[0]
    assert both(reader, ("session", key)) == both(reader, ("bearer", token)) is not None
    user.set_password("another-long-password")
    user.save()
    assert both(reader, ("session", key)) is None
    assert both(reader, ("bearer", token)) is None
    token = tokens.issue(user)[0]
    assert both(reader, ("bearer", token)) is not None
    user.is_active = False
    user.save()
    assert both(reader, ("bearer", token)) is None
    assert both(reader, ("bearer", token + "x")) is None


def test_the_fingerprint_follows_every_input_of_the_rights(reader: IdentityReader,
                                                           make_user: Any) -> None:
    """A permission given directly or through a group, staff status: a new fingerprint
    (so no scope learned for the old rights is used); the same rows: the same one."""
    user = make_user("ada")
    token = tokens.issue(user)[0]
    seen = [both(reader, ("bearer", token))]
    assert seen[0] is not None and both(reader, ("bearer", token)) == seen[0]
    permission = exposed_permissions(("view",))[0]
    user.user_permissions.add(permission)
    seen.append(both(reader, ("bearer", token)))
    user.user_permissions.clear()
    group = Group.objects.create(name="readers")
    group.permissions.add(permission)
    user.groups.add(group)
    seen.append(both(reader, ("bearer", token)))
    group.permissions.clear()
    assert both(reader, ("bearer", token)) == seen[0]  # back to the same rights
    user.is_staff = True
    user.save()
    seen.append(both(reader, ("bearer", token)))
    fingerprints = [identity.fingerprint for identity in seen if identity is not None]
    assert len(fingerprints) == 4
    assert fingerprints[1] == fingerprints[2]  # the same permission names either way
    assert len({fingerprints[0], fingerprints[1], fingerprints[3]}) == 3
