"""Writes of many rows: Django's ``qs.update()``, ``qs.delete()``, ``bulk_create``,
``get_or_create`` and ``update_or_create``, as mutations.

``bulk_update_<model>(filters, data)``, ``bulk_delete_<model>(filters)``,
``bulk_create_<model>(data: [...])``, ``get_or_create_<model>(lookup, defaults)`` and
``update_or_create_<model>(lookup, defaults, create_defaults)``.

Every row goes through the single-object path of ``mutations.ModelWriter``: the
same permissions (Django's add/change/delete or the config's write rule, checked
on each row after the write), the same ``full_clean()`` and a ``save()`` per row, so
signals fire and every changed row becomes one change event. Django's own
``QuerySet.update()`` and ``bulk_create()`` skip all three (no validation, no
signals, no ``save()``); an API whose writes must keep the project's validation
and push an event per row cannot use them, and ``BULK_MAX_ROWS`` bounds what the
row-by-row path costs. A call is one transaction: one refused row refuses all.

A filter selects among the rows the user may read *and* write: the answer (which
rows matched) is a read. A delete also deletes what the rows' foreign keys
CASCADE to; the collector is asked first, and the call is refused when it would
delete an object the user may not delete.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import strawberry
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from strawberry.types.unset import UNSET

from api_graphql import type_factory
from api_graphql.cascades import PROTECTED, checked_collector
from api_graphql.conf import graphql_settings
from api_graphql.errors import GraphQLUserError, LimitExceeded, PermissionDenied
from api_graphql.filters import FilterCompiler
from api_graphql.model_graph import ModelGraph, ModelSpec
from api_graphql.mutations import (
    FIELD_ERROR,
    ModelWriter,
    Refused,
    _integrity,
    create_input_name,
    input_annotation,
    protected_errors,
    update_input_name,
    writable_fields,
    writable_relations,
)
from api_graphql.reader import restrict
from api_graphql.root_fields import RootField
from api_graphql.selection import TYPENAME, FieldSelection
from api_graphql.type_factory import REQUIRED

if TYPE_CHECKING:
    from api_graphql.context import RequestContext

ROW_ERROR = "RowError"
DELETED_COUNT = "DeletedCount"


def bulk_payload_name(spec: ModelSpec) -> str:
    return f"{spec.type_name}BulkPayload"


def upsert_payload_name(spec: ModelSpec) -> str:
    return f"{spec.type_name}UpsertPayload"


def lookup_input_name(spec: ModelSpec) -> str:
    return f"{spec.type_name}LookupInput"


def bulk_root_names(spec: ModelSpec) -> dict[str, str]:
    """Operation -> root field name, for the operations this model's config offers."""
    config = spec.config
    if not config.bulk_mutations:
        return {}
    name = spec.root_name
    has_input = bool(writable_fields(spec) or writable_relations(spec))
    has_lookup = bool(_lookup_fields(spec))
    offered = {
        "bulk_update": has_input and config.mutation_enabled("update"),
        "bulk_delete": config.mutation_enabled("delete"),
        "bulk_create": has_input and config.mutation_enabled("create"),
        "get_or_create": has_lookup and config.mutation_enabled("create"),
        "update_or_create": (has_lookup and config.mutation_enabled("create")
                             and config.mutation_enabled("update")),
    }
    return {op: f"{op}_{name}" for op, on in offered.items() if on}


def _lookup_fields(spec: ModelSpec) -> dict[str, Any]:
    """What a lookup may name: plain columns and foreign keys (by pk), all optional."""
    lookup: dict[str, Any] = {f.name: input_annotation(f) | None
                              for f in writable_fields(spec) if not f.is_file}
    for relation in writable_relations(spec):
        if relation.kind == "forward":
            lookup[relation.name] = strawberry.ID | None
    return lookup


def build_shared_types() -> None:
    type_factory.object_type(
        ROW_ERROR,
        {"index": int, "pk": strawberry.ID | None, "field": str, "message": str, "code": str},
        description="Why one row of a bulk write was refused: its position in the call "
                    "(or its pk) and the field error; field is __all__ for model-wide errors.",
    )
    type_factory.object_type(
        DELETED_COUNT, {"model": str, "count": int},
        description="Rows a delete removed from one model (cascades included), "
                    "as Django's QuerySet.delete() counts them.",
    )


def build_bulk_types(spec: ModelSpec, graph: ModelGraph) -> None:
    if not bulk_root_names(spec):
        return
    lookup = _lookup_fields(spec)
    if lookup:
        type_factory.input_type(
            lookup_input_name(spec), lookup,
            description=f"Exact values that find one {spec.type_name}: they must cover a "
                        "unique field or a unique constraint.",
        )
    node = type_factory.ref(spec.type_name)
    type_factory.object_type(bulk_payload_name(spec), {
        "ok": bool,
        "count": int,
        "pks": type_factory.list_of(strawberry.ID),
        "nodes": type_factory.list_of(node | None),
        "errors": type_factory.list_of(type_factory.ref(ROW_ERROR)),
        "deleted": type_factory.list_of(type_factory.ref(DELETED_COUNT)),
    }, description="nodes[i] is the row pks[i] (null when the user may not read it).")
    type_factory.object_type(upsert_payload_name(spec), {
        "ok": bool,
        "created": bool,
        "pk": strawberry.ID | None,
        "node": node | None,
        "errors": type_factory.list_of(type_factory.ref(FIELD_ERROR)),
    })


# -- selecting rows ------------------------------------------------------------------
def _max_rows() -> int:
    return int(graphql_settings().bulk_max_rows)


def _bounded(count: int, spec: ModelSpec) -> None:
    limit = _max_rows()
    if count > limit:
        raise LimitExceeded(
            f"This bulk write touches more than {limit} {spec.type_name} rows "
            "(API_GRAPHQL['BULK_MAX_ROWS']); narrow the filter or split the call.",
            limit=limit,
        )


def _target_pks(context: RequestContext, spec: ModelSpec, filters: Any, rule: Q | bool,
                action: str) -> list[Any]:
    """The rows a filter selects among those the user may read and ``action``."""
    readable = context.scope.readable(spec)
    if readable is None:
        raise PermissionDenied(
            f"You do not have permission to view {spec.type_name}: a bulk {action} selects "
            "its rows with a filter, which reads them."
        )
    compiled = FilterCompiler(context.built.graph, context.scope).compile(spec, filters or {})
    qs = restrict(readable, compiled.q)
    if isinstance(rule, Q):
        qs = restrict(qs, rule)
    pks = list(qs.order_by("pk").values_list("pk", flat=True)[: _max_rows() + 1])
    _bounded(len(pks), spec)
    return pks


def _locked(spec: ModelSpec, pks: list[Any]) -> list[models.Model]:
    """The rows, locked in primary key order (two bulk writes cannot deadlock)."""
    manager = spec.model._default_manager
    return list(manager.select_for_update().filter(pk__in=pks).order_by("pk"))


def _row_errors(index: int, pk: Any, errors: Iterable[dict[str, str]]) -> list[dict[str, Any]]:
    return [{**e, "index": index, "pk": None if pk is None else str(pk)} for e in errors]


class _RolledBack(Exception):
    """Some row was refused: undo the rows already written."""


# -- payloads ---------------------------------------------------------------------------
def _nodes(context: RequestContext, spec: ModelSpec, pks: list[Any],
           children: dict[str, FieldSelection]) -> list[dict[str, Any] | None]:
    readable = context.scope.readable(spec)
    if readable is None or not pks:
        return [None] * len(pks)
    fetched = context.reader.nodes(spec, readable.filter(pk__in=pks), children, extra=["pk"])
    by_pk = dict(zip(map(str, fetched.column("pk")), fetched.nodes, strict=True))
    return [by_pk.get(str(pk)) for pk in pks]


def _child(selection: FieldSelection, name: str) -> dict[str, FieldSelection]:
    return next((c.children or {} for c in (selection.children or {}).values()
                 if c.name == name), {})


def _bulk_payload(context: RequestContext, spec: ModelSpec, selection: FieldSelection, *,
                  pks: list[Any] | None = None, errors: list[dict[str, Any]] | None = None,
                  nodes: list[dict[str, Any] | None] | None = None,
                  deleted: dict[str, int] | None = None) -> dict[str, Any]:
    pks = [] if errors else list(pks or [])
    result: dict[str, Any] = {}
    for key, child in (selection.children or {}).items():
        if child.name == "ok":
            result[key] = not errors
        elif child.name == "count":
            result[key] = len(pks)
        elif child.name == "pks":
            result[key] = [str(pk) for pk in pks]
        elif child.name == "nodes":
            result[key] = (nodes if nodes is not None and not errors
                           else _nodes(context, spec, pks, child.children or {}))
        elif child.name == "errors":
            result[key] = [{k: (ROW_ERROR if c.name == TYPENAME else e[c.name])
                            for k, c in (child.children or {}).items()} for e in errors or []]
        elif child.name == "deleted":
            result[key] = [{k: (DELETED_COUNT if c.name == TYPENAME
                                else (label if c.name == "model" else count))
                            for k, c in (child.children or {}).items()}
                           for label, count in (deleted or {}).items() if count]
        elif child.name == TYPENAME:
            result[key] = bulk_payload_name(spec)
    return result


def _upsert_payload(context: RequestContext, spec: ModelSpec, selection: FieldSelection, *,
                    pk: Any = None, created: bool = False,
                    errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, child in (selection.children or {}).items():
        if child.name == "ok":
            result[key] = not errors
        elif child.name == "created":
            result[key] = created and not errors
        elif child.name == "pk":
            result[key] = None if pk is None or errors else str(pk)
        elif child.name == "node":
            result[key] = (None if pk is None or errors
                           else context.reader.node(spec, pk, child.children or {}))
        elif child.name == "errors":
            result[key] = [{k: (FIELD_ERROR if c.name == TYPENAME else e[c.name])
                            for k, c in (child.children or {}).items()} for e in errors or []]
        elif child.name == TYPENAME:
            result[key] = upsert_payload_name(spec)
    return result


# -- lookups of get_or_create / update_or_create -------------------------------------------
def unique_sets(model: type[models.Model]) -> list[frozenset[str]]:
    """The field-name sets that identify one row: unique fields, unique_together and
    unconditional UniqueConstraints."""
    opts = model._meta
    sets = [frozenset([f.name]) for f in opts.concrete_fields if f.unique]
    sets += [frozenset(together) for together in opts.unique_together]
    sets += [frozenset(c.fields) for c in opts.total_unique_constraints]
    return sets


def _lookup_filter(writer: ModelWriter, spec: ModelSpec, lookup: dict[str, Any]) -> dict[str, Any]:
    """``{"attname": value}`` for the exact lookup, refusing one that is not unique."""
    given = {k: v for k, v in lookup.items() if v is not UNSET}
    fields = {f.name: f for f in writable_fields(spec) if not f.is_file}
    relations = {r.name: r for r in writable_relations(spec) if r.kind == "forward"}
    names = {fields[k].django_field.name if k in fields else relations[k].django_field.name
             for k in given}
    if not any(unique <= names for unique in unique_sets(spec.model)):
        choices = " or ".join("(" + ", ".join(sorted(u)) + ")" for u in unique_sets(spec.model))
        raise GraphQLUserError(
            f"A lookup of {spec.type_name} must name a unique field or unique constraint: "
            f"{choices or 'this model has none besides its primary key'}.")
    probe = spec.model()
    writer.assign(probe, given)  # enums converted, foreign keys checked readable
    result = {}
    for name in given:
        attname = (fields[name].attname if name in fields
                   else relations[name].local_attname or "")
        result[attname] = getattr(probe, attname)
    return result


# -- the root fields --------------------------------------------------------------------------
def model_bulk_fields(spec: ModelSpec, graph: ModelGraph) -> list[RootField]:
    names = bulk_root_names(spec)
    if not names:
        return []
    bulk = type_factory.ref(bulk_payload_name(spec))
    upserted = type_factory.ref(upsert_payload_name(spec))
    filters = (type_factory.ref(spec.filter_name), REQUIRED)
    manager = spec.model._default_manager

    def bulk_update(context: RequestContext, selection: FieldSelection) -> Any:
        writer = ModelWriter(context, spec)
        rule = writer.require("change")
        data = {k: v for k, v in (selection.args.get("data") or {}).items() if v is not UNSET}
        if not data:
            raise GraphQLUserError(f"bulk_update of {spec.type_name} needs at least one field.")
        errors: list[dict[str, Any]] = []
        try:
            with transaction.atomic():
                pks = _target_pks(context, spec, selection.args.get("filters"), rule, "update")
                for index, instance in enumerate(_locked(spec, pks)):
                    try:
                        writer.change_row(instance, data, rule)
                    except Refused as refused:
                        errors += _row_errors(index, instance.pk, refused.errors)
                if errors:
                    raise _RolledBack
        except _RolledBack:
            return _bulk_payload(context, spec, selection, errors=errors)
        except IntegrityError as error:
            return _bulk_payload(context, spec, selection,
                                 errors=_row_errors(0, None, _integrity(error)))
        return _bulk_payload(context, spec, selection, pks=pks)

    def bulk_delete(context: RequestContext, selection: FieldSelection) -> Any:
        writer = ModelWriter(context, spec)
        rule = writer.require("delete")
        try:
            with transaction.atomic():
                pks = _target_pks(context, spec, selection.args.get("filters"), rule, "delete")
                rows = _locked(spec, pks)
                before = _nodes(context, spec, pks, _child(selection, "nodes"))
                try:
                    collector = checked_collector(context, spec, rows,
                                                  f"these {spec.type_name} rows")
                except PROTECTED as error:
                    raise Refused(protected_errors(error)) from None
                _, deleted = collector.delete()
        except Refused as refused:
            return _bulk_payload(context, spec, selection,
                                 errors=_row_errors(0, None, refused.errors))
        return _bulk_payload(context, spec, selection, pks=pks, nodes=before, deleted=deleted)

    def bulk_create(context: RequestContext, selection: FieldSelection) -> Any:
        writer = ModelWriter(context, spec)
        rule = writer.require("add")
        items = selection.args.get("data") or []
        _bounded(len(items), spec)
        errors: list[dict[str, Any]] = []
        pks: list[Any] = []
        try:
            with transaction.atomic():
                for index, data in enumerate(items):
                    try:
                        pks.append(writer.create_row(data, rule).pk)
                    except Refused as refused:
                        errors += _row_errors(index, None, refused.errors)
                    except IntegrityError as error:
                        errors += _row_errors(index, None, _integrity(error))
                        raise _RolledBack from None
                if errors:
                    raise _RolledBack
        except _RolledBack:
            return _bulk_payload(context, spec, selection, errors=errors)
        return _bulk_payload(context, spec, selection, pks=pks)

    def upsert(context: RequestContext, selection: FieldSelection, *, change: bool) -> Any:
        writer = ModelWriter(context, spec)
        args = selection.args
        lookup = args.get("lookup") or {}
        defaults = {k: v for k, v in (args.get("defaults") or {}).items() if v is not UNSET}
        create_defaults = args.get("create_defaults")
        create_with = defaults if create_defaults in (None, UNSET) else {
            k: v for k, v in create_defaults.items() if v is not UNSET}
        # get_or_create returns a row the user may read; update_or_create changes
        # a row the user may change (and then must still be allowed to).
        change_rule = context.scope.write_rule(spec, "change") if change else False
        if change:
            candidates = (None if change_rule is False else
                          manager.filter(change_rule) if isinstance(change_rule, Q)
                          else manager.all())
        else:
            candidates = context.scope.readable(spec)

        def existing() -> models.Model | None:
            if candidates is None:
                return None
            found = candidates.filter(**exact).values_list("pk", flat=True).first()
            if found is None:
                return None
            return manager.select_for_update().get(pk=found) if change else manager.get(pk=found)

        try:
            exact = _lookup_filter(writer, spec, lookup)
            with transaction.atomic():
                instance = existing()
                if instance is not None:
                    if change and defaults:
                        writer.change_row(instance, defaults, change_rule)
                    return _upsert_payload(context, spec, selection, pk=instance.pk)
                add_rule = writer.require("add")
                data = {**{k: v for k, v in lookup.items() if v is not UNSET}, **create_with}
                try:
                    with transaction.atomic():
                        instance = writer.create_row(data, add_rule)
                except (IntegrityError, Refused):
                    # Another request created it between our read and our insert (the
                    # insert fails, or full_clean's unique check sees its row first), as
                    # Django's get_or_create allows for: read it again.
                    instance = existing()
                    if instance is None:
                        raise
                    if change and defaults:
                        writer.change_row(instance, defaults, change_rule)
                    return _upsert_payload(context, spec, selection, pk=instance.pk)
        except Refused as refused:
            return _upsert_payload(context, spec, selection, errors=refused.errors)
        except IntegrityError as error:
            return _upsert_payload(context, spec, selection, errors=_integrity(error))
        return _upsert_payload(context, spec, selection, pk=instance.pk, created=True)

    def get_or_create(context: RequestContext, selection: FieldSelection) -> Any:
        return upsert(context, selection, change=False)

    def update_or_create(context: RequestContext, selection: FieldSelection) -> Any:
        return upsert(context, selection, change=True)

    update_input = (type_factory.ref(update_input_name(spec)), REQUIRED)
    optional_update = (type_factory.ref(update_input_name(spec)) | None, UNSET)
    lookup_arg = (type_factory.ref(lookup_input_name(spec)), REQUIRED)
    t = spec.type_name
    fields = {
        "bulk_update": RootField(
            names.get("bulk_update", ""), "mutation", bulk, bulk_update,
            {"filters": filters, "data": update_input},
            f"Django's {t}.objects.filter(...).update(...): each matching row the user may "
            "read and change gets the fields (full_clean of what changed, save(), one "
            "event per row); all or nothing.", spec),
        "bulk_delete": RootField(
            names.get("bulk_delete", ""), "mutation", bulk, bulk_delete, {"filters": filters},
            f"Django's {t}.objects.filter(...).delete(): refused when a CASCADE would delete "
            "objects the user may not delete.", spec),
        "bulk_create": RootField(
            names.get("bulk_create", ""), "mutation", bulk, bulk_create,
            {"data": (type_factory.list_of(type_factory.ref(create_input_name(spec))),
                      REQUIRED)},
            f"Create many {t} (full_clean and save() each); all or nothing.", spec),
        "get_or_create": RootField(
            names.get("get_or_create", ""), "mutation", upserted, get_or_create,
            {"lookup": lookup_arg, "defaults": optional_update},
            f"Django's {t}.objects.get_or_create(**lookup, defaults=...): lookup names "
            "unique fields.", spec),
        "update_or_create": RootField(
            names.get("update_or_create", ""), "mutation", upserted, update_or_create,
            {"lookup": lookup_arg, "defaults": optional_update,
             "create_defaults": optional_update},
            f"Django's {t}.objects.update_or_create(**lookup, defaults=..., "
            "create_defaults=...): an upsert on unique fields.", spec),
    }
    return [fields[op] for op in names]
