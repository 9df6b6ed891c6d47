"""Secrets stay on the server: by name (words, not letters), by model (credential apps),
with a named opt-in for a field that only looks secret; a superuser is no exception."""

from __future__ import annotations

import pytest
from django.db import models
from django.test import override_settings
from django.test.utils import isolate_apps

from api_graphql import secrets
from api_graphql.registry import ModelConfig
from api_graphql.schema import build_schema
from tests.test_naming import Isolated, StaticRegistry


def type_block(sdl: str, name: str) -> str:
    block = sdl[sdl.index(f"type {name} {{"):]
    return block[:block.index("}")]


@pytest.mark.parametrize("name", [
    "key", "signing_key", "api_key", "apiKey", "otp", "otp_seed", "salt", "private",
    "private_notes", "secret", "client_secret", "token", "access_token", "refresh_token",
    "password", "session_data", "session_key", "totp_seed", "nonce", "credentials",
])
def test_names_that_hold_credentials(name: str) -> None:
    assert secrets.name_is_secret(name)


@pytest.mark.parametrize("name", [
    "keyboard_layout", "monkey", "turkey", "title", "salted", "primary",
    "privacy_policy", "author_id", "keynote", "option",
])
def test_names_that_only_share_letters(name: str) -> None:
    assert not secrets.name_is_secret(name)


def test_credential_apps_models_are_denied_by_default() -> None:
    for label in ("socialaccount.socialtoken", "socialaccount.socialapp",
                  "mfa.authenticator", "account.emailconfirmation", "authtoken.token",
                  "otp_totp.totpdevice", "oauth2_provider.accesstoken"):
        assert secrets.is_credential_model(label), label
    assert not secrets.is_credential_model("account.emailaddress")


@isolate_apps("tests.testapp")
def test_secret_fields_are_absent_from_the_schema_and_opt_in_is_by_name() -> None:
    class Device(Isolated):
        name = models.CharField(max_length=10)
        key = models.CharField(max_length=10)
        otp_seed = models.CharField(max_length=10)
        public_key = models.CharField(max_length=10)
        password = models.CharField(max_length=10)
        keyboard_layout = models.CharField(max_length=10)

    class DeviceConfig(ModelConfig):
        not_secret = ["public_key", "password"]  # a password cannot be opted in

    device = type_block(build_schema(StaticRegistry([Device])).sdl(), "Device")
    assert "keyboard_layout" in device and "name" in device
    for hidden in ("key:", "otp_seed", "public_key", "password"):
        assert hidden not in device, hidden
    device = type_block(
        build_schema(StaticRegistry([Device], {Device: DeviceConfig})).sdl(), "Device")
    assert "public_key: String!" in device and "password" not in device
    with override_settings(API_GRAPHQL={"NOT_SECRET": ["testapp.device.key"]}):
        device = type_block(build_schema(StaticRegistry([Device])).sdl(), "Device")
    assert "  key: String!" in device


@isolate_apps("tests.testapp")
def test_json_fields_of_an_included_credential_model_stay_hidden() -> None:
    class Authenticator(Isolated):
        kind = models.CharField(max_length=10)
        data = models.JSONField(default=dict)

        class Meta(Isolated.Meta):
            app_label = "mfa"

    authenticator = type_block(build_schema(StaticRegistry([Authenticator])).sdl(),
                               "Authenticator")
    assert "kind: String!" in authenticator and "data" not in authenticator
