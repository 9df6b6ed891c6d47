"""What never leaves the server, whoever asks (a superuser too: the API is not the admin).

A field is a secret when its name says so, or when its model says so:

- **Names.** Any part of the name (split at ``_`` and case changes) is one of
  ``SECRET_WORDS`` (``key``, ``otp``, ``salt``, ``private``, ``seed``, ``nonce``, so
  ``key``, ``signing_key``, ``otp_seed``, ``private_notes``), or the name contains one
  of ``SECRET_PARTS`` (``password``, ``secret``, ``token``, ``credential``, ``apikey``,
  ``session_data``). ``keyboard`` and ``monkey`` are not secrets: words, not letters.
- **Models.** The models of common credential apps (``CREDENTIAL_MODELS``: social
  tokens and apps, MFA authenticators, e-mail confirmations, API token tables, OTP
  devices, login-attempt logs) are not exposed unless ``API_GRAPHQL["INCLUDE"]``
  names them; even then their JSON fields (where such apps keep TOTP seeds, private
  keys and provider tokens) stay hidden.

A field that only looks secret is exposed by naming it, never by a pattern:
``ModelConfig.not_secret = ["public_key"]`` or ``API_GRAPHQL["NOT_SECRET"] =
["app.model.field"]``. A name containing ``password`` cannot be opted in.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

from django.db import models

SECRET_WORDS = frozenset({"key", "keys", "otp", "salt", "private", "seed", "nonce", "pin"})
SECRET_PARTS = ("password", "passwd", "secret", "token", "credential", "apikey",
                "privkey", "session_data")
#: Never revealed, whatever the opt-in says.
ALWAYS_SECRET = ("password", "passwd", "session_data")

CREDENTIAL_MODELS = (
    # django-allauth
    "socialaccount.socialtoken", "socialaccount.socialapp", "socialaccount.socialaccount",
    "mfa.authenticator", "account.emailconfirmation", "usersessions.*",
    # Django REST framework and token apps
    "authtoken.*", "knox.*", "token_blacklist.*", "rest_framework_api_key.*",
    "django_rest_passwordreset.*", "oauth2_provider.*", "social_django.*",
    # django-otp and two-factor apps
    "otp_totp.*", "otp_static.*", "otp_hotp.*", "otp_email.*", "otp_yubikey.*",
    "two_factor.*", "webauthn.*",
    # Login attempt logs keep what was posted; captcha stores keep the answers.
    "axes.*", "captcha.*",
)

_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def _words(name: str) -> set[str]:
    return {word.lower() for word in _WORD.findall(name)}


def name_is_secret(name: str) -> bool:
    lowered = name.lower()
    return (any(part in lowered for part in SECRET_PARTS)
            or bool(_words(name) & SECRET_WORDS))


def is_credential_model(label: str) -> bool:
    return any(fnmatch.fnmatch(label.lower(), pattern) for pattern in CREDENTIAL_MODELS)


def is_secret(model: type[models.Model], name: str, django_field: object,
              revealed: Iterable[str]) -> bool:
    """Whether ``model``'s field ``name`` must stay on the server; ``revealed`` lists
    the names the project said only look secret."""
    lowered = name.lower()
    if any(part in lowered for part in ALWAYS_SECRET):
        return True
    if name in set(revealed):
        return False
    if is_credential_model(model._meta.label_lower) and isinstance(django_field,
                                                                    models.JSONField):
        return True
    return name_is_secret(name)
