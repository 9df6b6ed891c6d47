"""Values that are objects in GraphQL: ``File {name url}``, ``Money {amount currency}``,
``Country {code name}``.

Each is read from its columns by the reader and built for the selection it was asked
for; filters, ordering and inputs use the underlying scalar (the stored name, the
amount, the country code).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api_graphql import field_types, scalars, type_factory
from api_graphql.model_graph import FieldSpec
from api_graphql.selection import TYPENAME, FieldSelection

Row = tuple[Any, ...]


def build_shared_types() -> None:
    type_factory.object_type(
        field_types.FILE.shape or "", {"name": str, "url": str | None},
        description="A stored file: its name in storage and its URL.",
    )
    type_factory.object_type(
        field_types.MONEY.shape or "", {"amount": scalars.Decimal, "currency": str},
        description="An amount of money and its ISO 4217 currency code (django-money).",
    )
    type_factory.object_type(
        field_types.COUNTRY.shape or "", {"code": str, "name": str},
        description="A country: its ISO 3166-1 code and its name (django-countries).",
    )


def annotation(field: FieldSpec) -> Any:
    """The output type of a shaped field."""
    shape = type_factory.ref(field.kind.shape or "")
    return type_factory.list_of(shape) if field.many_values else shape | None


def producer(field: FieldSpec, child: FieldSelection, position: int, prefix: str,
             column: Callable[[str], int]) -> Callable[[Row], Any]:
    parts = [(key, part.name) for key, part in (child.children or {}).items()]
    kind = field.kind
    if kind is field_types.MONEY:
        return _money(field, parts, position, column(prefix + _currency_attname(field)))
    if kind is field_types.COUNTRY:
        return _country(field, parts, position)
    return _file(field, parts, position)


def _object(parts: list[tuple[str, str]], shape: str,
            values: dict[str, Any]) -> dict[str, Any]:
    return {key: shape if part == TYPENAME else values.get(part) for key, part in parts}


def _file(field: FieldSpec, parts: list[tuple[str, str]],
          position: int) -> Callable[[Row], Any]:
    storage = field.django_field.storage  # type: ignore[attr-defined]
    wants_url = any(part == "url" for _, part in parts)

    def file_value(row: Row) -> dict[str, Any] | None:
        name = row[position]
        if not name:
            return None
        url = None
        if wants_url:
            try:
                url = storage.url(name)
            except Exception:
                url = None
        return _object(parts, "File", {"name": name, "url": url})

    return file_value


def _currency_attname(field: FieldSpec) -> str:
    currency = getattr(field.django_field, "_currency_field", None)
    return currency.attname if currency is not None else f"{field.attname}_currency"


def _money(field: FieldSpec, parts: list[tuple[str, str]], amount_at: int,
           currency_at: int) -> Callable[[Row], Any]:
    def money_value(row: Row) -> dict[str, Any] | None:
        amount = row[amount_at]
        if amount is None:
            return None
        return _object(parts, "Money", {"amount": scalars.decimal_to_wire(amount),
                                        "currency": str(row[currency_at] or "")})

    return money_value


def _country(field: FieldSpec, parts: list[tuple[str, str]],
             position: int) -> Callable[[Row], Any]:
    countries = getattr(field.django_field, "countries", None)

    def one(code: str) -> dict[str, Any]:
        name = str(countries.name(code)) if countries is not None else code
        return _object(parts, "Country", {"code": code, "name": name or code})

    if field.many_values:
        def country_list(row: Row) -> list[dict[str, Any]]:
            stored = row[position] or ""
            codes = stored if isinstance(stored, list | tuple) else str(stored).split(",")
            return [one(str(code)) for code in codes if code]

        return country_list

    def country_value(row: Row) -> dict[str, Any] | None:
        code = row[position]
        return one(str(code)) if code else None

    return country_value
