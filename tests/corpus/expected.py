"""What an answer must be, worked out from model instances the ORM returns, never from
our reader: each field's value read through its descriptor (a ``Money``, a
``PhoneNumber``, a ``Country``) and compared with what came over the wire."""

from __future__ import annotations

import base64
import datetime
import decimal
import math
import uuid
from typing import Any

from django.db import models
from django.utils.dateparse import parse_duration
from django.utils.duration import duration_iso_string

from api_graphql.model_graph import FieldSpec, ModelSpec


def selection(spec: ModelSpec) -> list[str]:
    """Every scalar field of ``spec``, shaped ones with all their parts."""
    parts = []
    for field in spec.fields.values():
        shape = field.kind.shape
        if shape == "File":
            parts.append(f"{field.name} {{ name url }}")
        elif shape == "Money":
            parts.append(f"{field.name} {{ amount currency }}")
        elif shape == "Country":
            parts.append(f"{field.name} {{ code name }}")
        else:
            parts.append(field.name)
    return parts


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or (hasattr(value, "code") and not value.code)


def mismatch(field: FieldSpec, answer: Any, obj: models.Model) -> str | None:
    """Why ``answer`` is not ``obj``'s value of ``field`` (None: it is)."""
    django_field = field.django_field
    value = getattr(obj, django_field.attname)
    shape = field.kind.shape
    if field.many_values:
        wanted: Any = [{"code": c.code, "name": str(c.name)} for c in value]
        return None if answer == wanted else f"{answer!r} != {wanted!r}"
    if shape == "File":
        wanted = {"name": value.name, "url": value.url} if value else None
    elif shape == "Money":
        if value is None or getattr(value, "amount", None) is None:
            wanted = None
        else:
            if answer is None or decimal.Decimal(answer["amount"]) != value.amount:
                return f"{answer!r} != {value!r}"
            wanted = {"amount": answer["amount"], "currency": str(value.currency)}
    elif shape == "Country":
        wanted = None if _is_empty(value) else {"code": value.code, "name": str(value.name)}
    elif value is None or (field.enum is not None and value == ""):
        wanted = None
    elif field.enum is not None:
        wanted = field.enum.name_by_value.get(value)
    elif type(django_field).__name__ == "PhoneNumberField":
        wanted = value.as_e164 if hasattr(value, "as_e164") and value.is_valid() else str(value)
    else:
        return _scalar_mismatch(field, answer, value, obj)
    return None if answer == wanted else f"{answer!r} != {wanted!r}"


def _scalar_mismatch(field: FieldSpec, answer: Any, value: Any, obj: models.Model) -> str | None:
    name = field.kind.name
    if field.django_field.primary_key or name == "ID":
        ok = answer == str(value)
    elif field.kind.to_wire is not None and name == "String":  # no mapping: as text
        ok = answer == field.django_field.value_to_string(obj)
    elif name == "DateTime":
        ok = datetime.datetime.fromisoformat(answer) == value
    elif name == "Date":
        ok = datetime.date.fromisoformat(answer) == value
    elif name == "Time":
        ok = datetime.time.fromisoformat(answer) == value
    elif name == "Decimal":
        ok = decimal.Decimal(answer) == value
    elif name == "Duration":
        ok = parse_duration(answer) == value
    elif name == "Base64":
        ok = base64.b64decode(answer) == bytes(value)
    elif name == "BigInt":
        ok = int(answer) == value
    elif name == "UUID":
        ok = uuid.UUID(answer) == value
    elif name == "Float":
        ok = math.isclose(answer, value, rel_tol=1e-9)
    elif name == "JSON":
        ok = answer == (list(value) if isinstance(value, list) else value)
    else:
        ok = answer == value
    return None if ok else f"{answer!r} != {value!r}"


def wire(field: FieldSpec, value: Any) -> Any:
    """A filter operand as a client sends it (the variables' JSON)."""
    if field.enum is not None:
        return field.enum.name_by_value[value]
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return duration_iso_string(value)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if field.kind.name in ("BigInt", "ID"):
        return str(value)
    if hasattr(value, "as_e164"):
        return value.as_e164
    return value
