"""``create_<model>``, ``update_<model>`` and ``delete_<model>``.

Every write runs the model's ``full_clean()`` and saves inside a transaction, so
validation, unique and foreign-key problems come back as typed field errors in
the payload, and every save fires Django's signals like any other. Permissions are
Django's add/change/delete (or the model config's write rule), and a foreign key
can only point at a row the user may read.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import strawberry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, IntegrityError, models, transaction
from django.db.models import Q

from api_graphql import type_factory, types, uploads
from api_graphql.cascades import PROTECTED, checked_collector
from api_graphql.errors import GraphQLUserError, PermissionDenied
from api_graphql.model_graph import FieldSpec, ModelGraph, ModelSpec, RelationSpec
from api_graphql.root_fields import RootField
from api_graphql.selection import TYPENAME, FieldSelection
from api_graphql.type_factory import REQUIRED

if TYPE_CHECKING:
    from api_graphql.context import RequestContext

logger = logging.getLogger(__name__)

FIELD_ERROR = "FieldError"
IDS_INPUT = "ManyToManyInput"
OBJECT_REFERENCE = "ObjectReference"


def create_input_name(spec: ModelSpec) -> str:
    return f"{spec.type_name}CreateInput"


def update_input_name(spec: ModelSpec) -> str:
    return f"{spec.type_name}UpdateInput"


def payload_name(spec: ModelSpec) -> str:
    return f"{spec.type_name}Payload"


def writable_fields(spec: ModelSpec) -> list[FieldSpec]:
    """Columns a client may set, files included (keys and generic targets are apart)."""
    generic_ids = {r.fk_attname for r in spec.relations.values() if r.kind == "generic"}
    return [
        f for f in spec.fields.values()
        if f.editable and not isinstance(f.django_field, models.ForeignKey)
        and f.attname not in generic_ids
    ]


def input_annotation(field: FieldSpec) -> Any:
    """What an input takes for a column: a file field takes an Upload, a shaped one
    (money, a country) its scalar."""
    return uploads.Upload | None if field.is_file else types.input_annotation(field)


def writable_relations(spec: ModelSpec) -> list[RelationSpec]:
    return [
        r for r in spec.relations.values()
        if (r.kind == "forward" and r.django_field.editable and not r.django_field.primary_key)
        or r.kind in ("m2m", "generic")
    ]


def is_required(field: models.Field) -> bool:
    return not (field.null or field.blank or field.has_default()
                or getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


def build_shared_inputs() -> None:
    type_factory.object_type(
        FIELD_ERROR, {"field": str, "message": str, "code": str},
        description="Why a write was refused; field is __all__ for model-wide errors.",
    )
    type_factory.input_type(
        IDS_INPUT,
        {"set": list[strawberry.ID] | None, "add": list[strawberry.ID] | None,
         "remove": list[strawberry.ID] | None},
        description="Change a many-to-many relation by primary keys.",
    )
    type_factory.required_input_type(
        OBJECT_REFERENCE, {"type": (str, True), "pk": (strawberry.ID, True)},
        description="Any exposed object, by GraphQL type name and primary key "
                    "(the target of a generic foreign key).",
    )


def build_mutation_inputs(spec: ModelSpec, graph: ModelGraph) -> None:
    create: dict[str, tuple[Any, bool]] = {}
    update: dict[str, Any] = {}
    for field in writable_fields(spec):
        annotation = input_annotation(field)
        required = is_required(field.django_field)
        create[field.name] = (annotation, required) if required else (annotation | None, False)
        update[field.name] = annotation | None
    for relation in writable_relations(spec):
        if relation.kind == "generic":
            ct_field = spec.model._meta.get_field(relation.django_field.ct_field)
            required = is_required(ct_field)  # type: ignore[arg-type]
            reference = type_factory.ref(OBJECT_REFERENCE)
            create[relation.name] = (reference, True) if required else (reference | None, False)
            update[relation.name] = reference | None
        elif relation.kind == "forward":
            required = is_required(relation.django_field)
            annotation = strawberry.ID if required else strawberry.ID | None
            create[relation.name] = (annotation, required)
            update[relation.name] = strawberry.ID | None
        else:
            create[relation.name] = (list[strawberry.ID] | None, False)
            update[relation.name] = type_factory.ref(IDS_INPUT) | None
    if create:
        type_factory.required_input_type(create_input_name(spec), create)
    if update:
        type_factory.input_type(update_input_name(spec), update)
    type_factory.object_type(
        payload_name(spec),
        {
            "ok": bool,
            "pk": strawberry.ID | None,
            "node": type_factory.ref(spec.type_name) | None,
            "errors": type_factory.list_of(type_factory.ref(FIELD_ERROR)),
        },
    )


class Refused(Exception):
    """Field errors that end a write without saving."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        self.errors = errors


def protected_errors(error: models.ProtectedError | models.RestrictedError) -> list[dict[str, str]]:
    """PROTECT / RESTRICT as a field error: Django's message names the referring objects."""
    return [{"field": NON_FIELD_ERRORS, "code": "protected", "message": str(error.args[0])}]


def _field_errors(error: ValidationError) -> list[dict[str, str]]:
    result = []
    # A ValidationError has either error_dict or error_list, never both.
    error_dict = (error.error_dict if hasattr(error, "error_dict")
                  else {NON_FIELD_ERRORS: error.error_list})
    for field, items in error_dict.items():
        for item in items:
            for message in item.messages:
                result.append({"field": field, "message": message, "code": item.code or "invalid"})
    return result


def _no_choice(field: models.Field) -> Any:
    """What null means for a choices field: "" for a blank string column (the value a
    blank choice stores), None otherwise (full_clean then says "null" where it must)."""
    if field.blank and not field.null and isinstance(field, models.CharField | models.TextField):
        return ""
    return None


class ModelWriter:
    """One write of one model, for one user."""

    def __init__(self, context: RequestContext, spec: ModelSpec) -> None:
        self.context = context
        self.spec = spec
        self.graph = context.built.graph

    def require(self, action: str) -> Q | bool:
        rule = self.context.scope.write_rule(self.spec, action)  # type: ignore[arg-type]
        if rule is False:
            raise PermissionDenied(f"You do not have permission to {action} {self.spec.type_name}.")
        return rule

    def _target_exists(self, relation: RelationSpec, value: Any) -> bool:
        target = self.graph.specs[relation.target]
        readable = self.context.scope.readable(target)
        if readable is None:
            return False
        try:
            return readable.filter(pk=target.pk.django_field.to_python(value)).exists()
        except (ValidationError, ValueError, TypeError):
            return False

    def _missing(self, relation: RelationSpec, values: list[Any]) -> dict[str, str] | None:
        absent = [v for v in values if not self._target_exists(relation, v)]
        if not absent:
            return None
        target = self.graph.specs[relation.target]
        return {"field": relation.name, "code": "does_not_exist",
                "message": f"{target.type_name} {', '.join(map(str, absent))} does not exist."}

    def _assign_generic(self, instance: models.Model, relation: RelationSpec,
                        value: dict[str, Any] | None) -> dict[str, str] | None:
        """Point a generic foreign key at a readable object (or at nothing)."""
        ct_column, id_column = relation.ct_attname or "", relation.fk_attname or ""
        if value is None:
            setattr(instance, ct_column, None)
            setattr(instance, id_column, None)
            return None
        target = next((s for s in self.graph if s.type_name == value["type"]), None)
        readable = self.context.scope.readable(target) if target is not None else None
        try:
            found = readable is not None and target is not None and readable.filter(
                pk=target.pk.django_field.to_python(value["pk"])).exists()
        except (ValidationError, ValueError, TypeError):
            found = False
        if not found or target is None:
            return {"field": relation.name, "code": "does_not_exist",
                    "message": f"{value['type']} {value['pk']} does not exist."}
        setattr(instance, ct_column, ContentType.objects.get_for_model(target.model).pk)
        setattr(instance, id_column, target.pk.django_field.to_python(value["pk"]))
        return None

    def assign(self, instance: models.Model, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Set the given fields on ``instance``; return the many-to-many changes."""
        errors: list[dict[str, str]] = []
        m2m: dict[str, dict[str, Any]] = {}
        fields = {f.name: f for f in writable_fields(self.spec)}
        relations = {r.name: r for r in writable_relations(self.spec)}
        for name, value in data.items():
            if name in fields:
                field = fields[name]
                if field.enum is not None:
                    value = (field.enum.value_by_name[getattr(value, "value", value)]
                             if value is not None else _no_choice(field.django_field))
                elif field.is_file:
                    if value is not None and (refused := uploads.check_upload(
                            self.spec, field, value)) is not None:
                        errors.append(refused)
                        continue
                    # Stored by the field's pre_save (upload_to, the project's storage);
                    # null clears the field.
                    value = "" if value is None else value
                setattr(instance, field.attname, value)
            elif name in relations:
                relation = relations[name]
                if relation.kind == "generic":
                    if (missing := self._assign_generic(instance, relation, value)) is not None:
                        errors.append(missing)
                elif relation.kind == "m2m":
                    changes = {"set": value} if isinstance(value, list) else dict(value or {})
                    for ids in changes.values():
                        if ids and (missing := self._missing(relation, ids)):
                            errors.append(missing)
                    m2m[name] = changes
                elif value is None:
                    setattr(instance, relation.local_attname or "", None)
                elif missing := self._missing(relation, [value]):
                    errors.append(missing)
                else:
                    setattr(instance, relation.local_attname or "", value)
        if errors:
            raise Refused(errors)
        return m2m

    def check_rule(self, rule: Q | bool, instance: models.Model) -> None:
        """After the write, the row must still be one the user may write."""
        if isinstance(rule, Q):
            manager = self.spec.model._default_manager
            if not manager.filter(rule).filter(pk=instance.pk).exists():
                raise PermissionDenied(
                    f"You do not have permission to write this {self.spec.type_name}."
                )

    def apply_m2m(self, instance: models.Model, m2m: dict[str, dict[str, Any]]) -> None:
        for name, changes in m2m.items():
            manager = getattr(instance, name)
            if changes.get("set") is not None:
                manager.set(changes["set"])
            if changes.get("add"):
                manager.add(*changes["add"])
            if changes.get("remove"):
                manager.remove(*changes["remove"])

    def create_row(self, data: dict[str, Any], rule: Q | bool) -> models.Model:
        """A new row from ``data``: full_clean(), save(), its many-to-many links, and
        the write rule checked on the result (raises Refused or PermissionDenied)."""
        instance = self.spec.model()
        m2m = self.assign(instance, data)
        try:
            instance.full_clean()
        except ValidationError as error:
            raise Refused(_field_errors(error)) from None
        instance.save()
        self.apply_m2m(instance, m2m)
        self.check_rule(rule, instance)
        return instance

    def change_row(self, instance: models.Model, data: dict[str, Any], rule: Q | bool) -> None:
        """Set the given fields of ``instance`` and save only them, validating what
        changed (``full_clean`` with the other fields excluded, as a ModelForm does)."""
        m2m = self.assign(instance, data)
        given = {name for n in data if n not in m2m for name in _columns(self.spec, n)}
        concrete = self.spec.model._meta.concrete_fields
        others = [f.name for f in concrete if f.name not in given]
        try:
            instance.full_clean(exclude=others)
        except ValidationError as error:
            raise Refused(_field_errors(error)) from None
        automatic = [f.name for f in concrete if getattr(f, "auto_now", False)]
        if given:
            instance.save(update_fields=[*given, *automatic])
        self.apply_m2m(instance, m2m)
        self.check_rule(rule, instance)

    def find(self, pk: Any, rule: Q | bool) -> models.Model | None:
        """The row to change or delete, among the rows the write rule allows.

        As in the admin, the write permission decides, not the view permission: a user
        with only ``delete_<model>`` may delete rows they cannot read (the payload's
        node is then null). A row outside the rule is "not found", like a missing one.
        """
        try:
            key = self.spec.pk.django_field.to_python(pk)
        except ValidationError:
            raise GraphQLUserError(
                f"Invalid primary key for {self.spec.type_name}: {pk!r}"
            ) from None
        manager = self.spec.model._default_manager
        writable = manager.filter(rule) if isinstance(rule, Q) else manager.all()
        if not writable.filter(pk=key).exists():
            return None
        return manager.select_for_update().get(pk=key)


def _payload(context: RequestContext, spec: ModelSpec, selection: FieldSelection, *,
             pk: Any = None, node: Any = None, errors: list[dict[str, str]] | None = None,
             read_node: bool = True) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, child in (selection.children or {}).items():
        if child.name == "ok":
            result[key] = not errors
        elif child.name == "pk":
            result[key] = None if pk is None else str(pk)
        elif child.name == "node":
            if read_node and pk is not None and not errors:
                result[key] = context.reader.node(spec, pk, child.children or {})
            else:
                result[key] = node
        elif child.name == "errors":
            result[key] = [
                {k: (FIELD_ERROR if c.name == TYPENAME else e[c.name])
                 for k, c in (child.children or {}).items()}
                for e in errors or []
            ]
        elif child.name == TYPENAME:
            result[key] = payload_name(spec)
    return result


def _integrity(error: DatabaseError) -> list[dict[str, str]]:
    logger.info("api_graphql: write refused by the database: %s", error)
    return [{"field": NON_FIELD_ERRORS, "code": "integrity",
             "message": "The database refused this write (a constraint or a reference)."}]


def model_mutation_fields(spec: ModelSpec, graph: ModelGraph) -> list[RootField]:
    config = spec.config
    payload = type_factory.ref(payload_name(spec))
    pk_arg = {"pk": (strawberry.ID, REQUIRED)}
    fields: list[RootField] = []
    has_create_input = bool(writable_fields(spec) or writable_relations(spec))

    def create(context: RequestContext, selection: FieldSelection) -> Any:
        writer = ModelWriter(context, spec)
        rule = writer.require("add")
        try:
            with transaction.atomic():
                instance = writer.create_row(selection.args.get("data") or {}, rule)
        except Refused as refused:
            return _payload(context, spec, selection, errors=refused.errors)
        except IntegrityError as error:
            return _payload(context, spec, selection, errors=_integrity(error))
        return _payload(context, spec, selection, pk=instance.pk)

    def update(context: RequestContext, selection: FieldSelection) -> Any:
        writer = ModelWriter(context, spec)
        rule = writer.require("change")
        data = selection.args.get("data") or {}
        try:
            with transaction.atomic():
                instance = writer.find(selection.args["pk"], rule)
                if instance is None:
                    raise Refused([{"field": "pk", "code": "not_found",
                                    "message": f"{spec.type_name} not found."}])
                writer.change_row(instance, data, rule)
        except Refused as refused:
            return _payload(context, spec, selection, pk=selection.args["pk"],
                            errors=refused.errors)
        except IntegrityError as error:
            return _payload(context, spec, selection, errors=_integrity(error))
        return _payload(context, spec, selection, pk=instance.pk)

    def delete(context: RequestContext, selection: FieldSelection) -> Any:
        writer = ModelWriter(context, spec)
        rule = writer.require("delete")
        node_children = next((c.children for c in (selection.children or {}).values()
                              if c.name == "node"), None) or {}
        try:
            with transaction.atomic():
                instance = writer.find(selection.args["pk"], rule)
                if instance is None:
                    raise Refused([{"field": "pk", "code": "not_found",
                                    "message": f"{spec.type_name} not found."}])
                pk = instance.pk
                before = context.reader.node(spec, pk, node_children)
                try:
                    # Checked first as the admin does (get_deleted_objects), then the
                    # model's own delete(), which a project may have overridden.
                    checked_collector(context, spec, [instance], f"this {spec.type_name}")
                    instance.delete()
                except PROTECTED as error:
                    raise Refused(protected_errors(error)) from None
        except Refused as refused:
            return _payload(context, spec, selection, pk=selection.args["pk"],
                            errors=refused.errors)
        return _payload(context, spec, selection, pk=pk, node=before, read_node=False)

    name = spec.root_name
    if config.mutation_enabled("create") and has_create_input:
        fields.append(RootField(
            f"create_{name}", "mutation", payload, create,
            {"data": (type_factory.ref(create_input_name(spec)), REQUIRED)},
            f"Create a {spec.type_name} (runs full_clean).",
        ))
    if config.mutation_enabled("update") and has_create_input:
        fields.append(RootField(
            f"update_{name}", "mutation", payload, update,
            {**pk_arg, "data": (type_factory.ref(update_input_name(spec)), REQUIRED)},
            f"Change the given fields of a {spec.type_name}.",
        ))
    if config.mutation_enabled("delete"):
        fields.append(RootField(f"delete_{name}", "mutation", payload, delete, pk_arg,
                                f"Delete a {spec.type_name}."))
    return fields



def _columns(spec: ModelSpec, name: str) -> tuple[str, ...]:
    """The model fields an input field sets (a generic target sets two)."""
    relation = spec.relations.get(name)
    if relation is None:
        return (name,)
    if relation.kind == "generic":
        return (relation.django_field.ct_field, relation.django_field.fk_field)
    return (relation.django_field.name,)
