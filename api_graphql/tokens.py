"""Signed bearer tokens for clients without cookies (gateways, mobile, Node).

A token is ``django.core.signing`` over the user's pk and a digest of their
session auth hash, so it expires after ``TOKEN_MAX_AGE`` seconds and dies at once
when the password changes. It travels as ``Authorization: Bearer <token>`` over
HTTP and as ``{"authorization": "Bearer <token>"}`` in ``connection_init``.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core import signing

from api_graphql.conf import graphql_settings

SALT = "api_graphql.token"


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class TokenUser:
    user: Any
    expires_at: float


def _fingerprint(user: Any) -> str:
    return digest(user.get_session_auth_hash())


def digest(session_auth_hash: str) -> str:
    """What a token carries of its user's session auth hash (changes with the password)."""
    return hashlib.sha256(session_auth_hash.encode()).hexdigest()[:16]


def issue(user: Any) -> tuple[str, float]:
    """A new token for ``user`` and the Unix time it expires."""
    token = signing.dumps({"u": str(user.pk), "h": _fingerprint(user)}, salt=SALT)
    return token, time.time() + graphql_settings().token_max_age


def strip_scheme(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def verified(token: str) -> tuple[str, str, float]:
    """(user pk, session-hash digest, expiry as Unix time) a token signs, or
    :class:`InvalidToken`: the checks that need no database."""
    max_age = graphql_settings().token_max_age
    try:
        payload = signing.loads(token, salt=SALT, max_age=max_age)
        issued_at = signing.b62_decode(token.rsplit(":", 2)[-2])
        return str(payload["u"]), str(payload.get("h")), issued_at + max_age
    except signing.SignatureExpired:
        raise InvalidToken("token expired") from None
    except (signing.BadSignature, ValueError, IndexError, KeyError, TypeError):
        raise InvalidToken("invalid token") from None


def authenticate(token: str) -> TokenUser:
    """The active user a token names, or :class:`InvalidToken` with the reason."""
    pk, signed_digest, expires_at = verified(token)
    user_model = get_user_model()
    try:
        user = user_model._default_manager.get(pk=pk)
    except (user_model.DoesNotExist, ValueError):
        raise InvalidToken("invalid token") from None
    if not user.is_active or signed_digest != _fingerprint(user):
        raise InvalidToken("token revoked")
    return TokenUser(user, expires_at)
