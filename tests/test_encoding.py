"""Every value leaves encoded: field kinds by library, internal type and text, and the
boundary that turns an unforeseen value into a GraphQL error (never an HTML 500)."""

from __future__ import annotations

import decimal
import json
from typing import Any

import orjson
import pytest
from django.db import models
from django.test.utils import isolate_apps
from django.utils.translation import gettext_lazy
from django_countries.fields import CountryField
from djmoney.models.fields import MoneyField
from phonenumber_field.modelfields import PhoneNumberField
from phonenumber_field.phonenumber import PhoneNumber

from api_graphql import encoding, field_types
from api_graphql.schema import build_schema
from tests.test_naming import Isolated, StaticRegistry


class Rendered(list):  # type: ignore[type-arg]
    def __str__(self) -> str:
        return "<p>rendered</p>"


class BlockField(models.Field):  # type: ignore[type-arg]
    """A CMS-style field storing JSON, not a JSONField subclass."""

    def get_internal_type(self) -> str:
        return "JSONField"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return Rendered(json.loads(value))

    def get_prep_value(self, value: Any) -> Any:
        return json.dumps(list(value))


class Opaque:
    def __str__(self) -> str:
        return "opaque!"


class OpaqueCharField(models.CharField):  # type: ignore[type-arg]
    """A package's CharField whose values are objects of its own."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return Opaque()

    def value_to_string(self, obj: Any) -> str:
        return f"as text: {self.value_from_object(obj)}"


class TickField(models.Field):  # type: ignore[type-arg]
    """Unknown to every rule but its internal type."""

    def get_internal_type(self) -> str:
        return "PositiveBigIntegerField"


@isolate_apps("tests.testapp")
def test_kinds_come_from_library_class_mro_then_internal_type() -> None:
    class Shop(Isolated):
        price = MoneyField(max_digits=8, decimal_places=2, default_currency="EUR")
        phone = PhoneNumberField(blank=True)
        country = CountryField(blank=True)
        blocks = BlockField(null=True)
        ticks = TickField(null=True)

    kind = {f.name: field_types.scalar_kind(f) for f in Shop._meta.concrete_fields}
    assert kind["price"] is field_types.MONEY and kind["price_currency"] is field_types.STRING
    assert kind["phone"] is field_types.PHONE and kind["country"] is field_types.COUNTRY
    assert kind["blocks"] is field_types.JSON and kind["ticks"] is field_types.BIGINT

    blocks = Shop._meta.get_field("blocks")
    encode = field_types.encoder(blocks, field_types.JSON)
    assert encode is not None
    data = [{"type": "p", "value": "x"}]
    assert orjson.loads(orjson.dumps(encode(Rendered(data)))) == data  # data, not the HTML
    phone = Shop._meta.get_field("phone")
    encode = field_types.encoder(phone, field_types.PHONE)
    assert encode is not None
    assert encode(PhoneNumber.from_string("06 12 34 56 78", region="FR")) == "+33612345678"
    invalid = PhoneNumber.from_string("+1 555 0100")
    assert encode(invalid) == str(invalid.raw_input or invalid)  # as entered, still text


@isolate_apps("tests.testapp")
def test_a_package_field_returning_its_own_objects_is_written_as_text() -> None:
    class Thing(Isolated):
        code = OpaqueCharField(max_length=10)

    field = Thing._meta.get_field("code")
    encode = field_types.encoder(field, field_types.scalar_kind(field))
    assert encode is not None
    assert encode("plain") == "plain"
    assert encode(Opaque()) == "as text: opaque!"


@isolate_apps("tests.testapp")
def test_shaped_fields_are_objects_in_the_schema() -> None:
    class Shop(Isolated):
        price = MoneyField(max_digits=8, decimal_places=2, default_currency="EUR", null=True)
        country = CountryField(blank=True)
        markets = CountryField(multiple=True, blank=True)

    sdl = build_schema(StaticRegistry([Shop])).sdl()
    assert "price: Money\n" in sdl and "price_currency: ShopPriceCurrency" in sdl
    assert "country: Country\n" in sdl and "markets: [Country!]!" in sdl
    assert "type Money {\n  amount: Decimal!\n  currency: String!\n}" in sdl
    assert "type Country {\n  code: String!\n  name: String!\n}" in sdl
    filters = sdl[sdl.index("input ShopFilter"):]
    assert "price: DecimalFilter" in filters and "country: StringFilter" in filters


def test_the_boundary_encodes_or_answers_a_graphql_error(caplog: pytest.LogCaptureFixture
                                                         ) -> None:
    body = {"data": {"a": decimal.Decimal("1.50"), "b": {1, 2}, "c": gettext_lazy("Yes")}}
    assert orjson.loads(encoding.dumps_or_error(body)) == {
        "data": {"a": "1.50", "b": [1, 2], "c": "Yes"}}
    failed = orjson.loads(encoding.dumps_or_error({"data": {"x": Opaque()}}))
    assert failed["data"] is None
    assert failed["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert any("could not be encoded" in r.getMessage() for r in caplog.records)
