"""The graph of exposed models, read from ``Model._meta`` once per schema build.

Everything else (types, filters, ordering, inputs, the reader, the client
manifest) is derived from these specs, so a fact about a model is computed once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.db import models
from django.db.models.fields.related import ForeignObject, ForeignObjectRel

from api_graphql import field_types, secrets
from api_graphql.conf import graphql_settings
from api_graphql.field_types import ScalarKind
from api_graphql.naming import (
    enum_type_name,
    enum_value_name,
    field_name,
    graphql_name,
    root_field_base,
    type_names,
)
from api_graphql.registry import ExposureRegistry, ModelConfig

logger = logging.getLogger(__name__)

RelationKind = Literal["forward", "reverse_one", "reverse_many", "m2m", "generic"]


@dataclass(frozen=True)
class EnumSpec:
    """A choices field as a GraphQL enum; members are named by the documented rule."""

    type_name: str
    name_by_value: dict[Any, str]
    value_by_name: dict[str, Any]


@dataclass(frozen=True)
class FieldSpec:
    """A column exposed as a scalar (foreign keys appear as ``<name>_id`` too)."""

    name: str
    attname: str
    django_field: models.Field
    kind: ScalarKind
    nullable: bool
    enum: EnumSpec | None = None
    editable: bool = True
    #: How a non-null value becomes its JSON form (None: as it is); see field_types.
    encode: Callable[[Any], Any] | None = None

    @property
    def is_file(self) -> bool:
        return self.kind is field_types.FILE

    @property
    def many_values(self) -> bool:
        """A column holding a list (django-countries' ``multiple=True``)."""
        return bool(getattr(self.django_field, "multiple", False))


@dataclass(frozen=True)
class RelationSpec:
    """A relation followed from one exposed model to another."""

    name: str
    kind: RelationKind
    target: str
    many: bool
    #: The lookup name from this model (``filter(<query_name>__...)``).
    query_name: str
    #: Forward to-one: the local column holding the target's key.
    local_attname: str | None = None
    #: To-many and reverse to-one: the lookup from the target back to this model.
    remote_path: str | None = None
    #: Generic relations: the content type and object id columns.
    ct_attname: str | None = None
    fk_attname: str | None = None
    django_field: Any = None
    #: The column of this model the other side refers to (the primary key, or the
    #: ``to_field`` of a foreign key pointing here).
    local_key: str = "pk"
    #: Forward to-one: the target's column that ``local_attname`` holds.
    target_key: str = "pk"
    #: To-many and reverse to-one: how a key of this model is spelled on the other
    #: side (a generic relation's object id may be text while the key is a number).
    key_on_remote: Any = None


@dataclass
class ModelSpec:
    model: type[models.Model]
    label: str
    type_name: str
    root_name: str
    config: ModelConfig
    pk: FieldSpec
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    relations: dict[str, RelationSpec] = field(default_factory=dict)
    #: Properties, methods and annotations the config exposes (``api_graphql.computed``).
    computed: dict[str, Any] = field(default_factory=dict)
    #: Manager / QuerySet methods offered as scopes (``api_graphql.scopes``).
    scopes: dict[str, Any] = field(default_factory=dict)

    @property
    def filter_name(self) -> str:
        return f"{self.type_name}Filter"

    @property
    def order_name(self) -> str:
        return f"{self.type_name}Order"


class ModelGraph:
    """All exposed models by label, and the lookups between them."""

    def __init__(self, registry: ExposureRegistry) -> None:
        exposed = registry.exposed_models()
        pinned = {model: name for model in exposed
                  if (name := registry.config(model).type_name) is not None}
        names = type_names(exposed, pinned, graphql_settings().project_apps)
        self.specs: dict[str, ModelSpec] = {}
        self.by_model: dict[type[models.Model], ModelSpec] = {}
        for model in exposed:
            spec = _model_spec(model, names[model], registry.config(model))
            self.specs[spec.label] = spec
            self.by_model[model] = spec
        for spec in self.specs.values():
            spec.relations = _relations(spec, self.by_model)
        from api_graphql.computed import computed_fields
        from api_graphql.scopes import scope_specs

        for spec in self.specs.values():
            spec.computed = computed_fields(spec, self)
            spec.scopes = scope_specs(spec, self)

    def __iter__(self) -> Iterator[ModelSpec]:
        return iter(self.specs.values())

    def get(self, model: type[models.Model]) -> ModelSpec | None:
        return self.by_model.get(model)

    def spec_for(self, model: type[models.Model]) -> ModelSpec:
        spec = self.get(model)
        if spec is None:
            raise KeyError(f"{model._meta.label} is not exposed")
        return spec


def _visible(model: type[models.Model], name: str, config: ModelConfig,
             django_field: object = None) -> bool:
    label = model._meta.label_lower
    revealed = [*config.not_secret,
                *(entry.rsplit(".", 1)[1] for entry in graphql_settings().not_secret
                  if entry.lower().rsplit(".", 1)[0] == label)]
    if secrets.is_secret(model, name, django_field, revealed):
        return False
    hidden = {h.lower() for h in graphql_settings().hidden_fields}
    if f"{label}.{name}".lower() in hidden or name in set(config.exclude):
        return False
    return config.fields is None or name in set(config.fields)


def _enum(model: type[models.Model], type_name: str, field: models.Field) -> EnumSpec | None:
    choices = list(field.flatchoices or ())
    if not choices:
        return None
    name_by_value: dict[Any, str] = {}
    for value, label in choices:
        name = (enum_value_name(value) if isinstance(value, str)
                else enum_value_name(str(label)).upper())
        if name in name_by_value.values() or name.startswith("__"):
            name = f"{name}_{graphql_name(str(value))}"
        name_by_value[value] = name
    value_by_name = {name: value for value, name in name_by_value.items()}
    return EnumSpec(enum_type_name(type_name, field.name), name_by_value, value_by_name)


def _model_spec(model: type[models.Model], type_name: str, config: ModelConfig) -> ModelSpec:
    opts = model._meta
    pk_field = opts.pk
    assert pk_field is not None
    fields: dict[str, FieldSpec] = {}
    for django_field in opts.concrete_fields:
        is_fk = isinstance(django_field, ForeignObject)
        name = django_field.attname if is_fk else django_field.name
        if not django_field.primary_key and not _visible(model, django_field.name, config,
                                                        django_field):
            continue
        kind = field_types.scalar_kind(django_field)
        # A shaped value (a country's {code name}) is its own type, not an enum.
        enum = None if is_fk or kind.shape else _enum(model, type_name, django_field)
        fields[name] = FieldSpec(
            name=name,
            attname=django_field.attname,
            django_field=django_field,
            kind=kind,
            # A blank choices field stores "" (no member): the enum reads it as null.
            nullable=bool(django_field.null or (enum is not None and django_field.blank)),
            enum=enum,
            editable=bool(django_field.editable) and not django_field.primary_key,
            encode=field_types.encoder(django_field, kind),
        )
    pk_spec = fields[pk_field.attname]
    return ModelSpec(
        model=model,
        label=opts.label_lower,
        type_name=type_name,
        root_name=root_field_base(type_name),
        config=config,
        pk=pk_spec,
        fields=fields,
    )


def _referenced_attname(rel: ForeignObjectRel, spec: ModelSpec) -> str:
    """The column of ``spec`` a reverse relation's foreign key holds: the primary key,
    or the ``to_field`` it names (a many-to-many's through table refers to the pk)."""
    if rel.many_to_many:
        return spec.pk.attname
    target_field: Any = getattr(rel.field, "target_field", None)
    return target_field.attname if target_field is not None else spec.pk.attname


def _relations(
    spec: ModelSpec, exposed: dict[type[models.Model], ModelSpec]
) -> dict[str, RelationSpec]:
    model, config = spec.model, spec.config
    relations: dict[str, RelationSpec] = {}

    def target_of(related: Any) -> ModelSpec | None:
        return exposed.get(related) if related is not None else None

    for django_field in model._meta.get_fields(include_hidden=False):
        if isinstance(django_field, ForeignObjectRel):
            name = field_name(django_field.get_accessor_name())
        else:
            name = field_name(getattr(django_field, "name", None))
        if not name or name in relations or not _visible(model, name, config):
            continue
        if isinstance(django_field, GenericForeignKey):
            ct: Any = model._meta.get_field(django_field.ct_field)
            fk: Any = model._meta.get_field(django_field.fk_field)
            relations[name] = RelationSpec(
                name=name, kind="generic", target="*", many=False, query_name=name,
                ct_attname=ct.attname, fk_attname=fk.attname, django_field=django_field,
            )
            continue
        if isinstance(django_field, GenericRelation):
            target = target_of(django_field.related_model)
            if target is None:
                continue
            object_id: Any = target.model._meta.get_field(django_field.object_id_field_name)
            relations[name] = RelationSpec(
                name=name, kind="reverse_many", target=target.label, many=True,
                query_name=name, remote_path=django_field.object_id_field_name,
                ct_attname=django_field.content_type_field_name, django_field=django_field,
                local_key=spec.pk.attname, key_on_remote=object_id.to_python,
            )
            continue
        if isinstance(django_field, ForeignObjectRel):
            accessor = name
            target = target_of(django_field.related_model)
            if target is None or django_field.hidden:
                continue
            remote = django_field.field.name
            if django_field.many_to_many:
                kind: RelationKind = "m2m"
            elif django_field.one_to_one:
                kind = "reverse_one"
            else:
                kind = "reverse_many"
            relations[accessor] = RelationSpec(
                name=accessor, kind=kind, target=target.label, many=kind != "reverse_one",
                query_name=django_field.name, remote_path=remote, django_field=django_field,
                local_key=_referenced_attname(django_field, spec),
            )
            continue
        if not getattr(django_field, "is_relation", False):
            continue
        target = target_of(django_field.related_model)
        if target is None:
            continue
        if django_field.many_to_many:
            remote_field: Any = django_field.remote_field
            if remote_field.hidden:
                logger.warning(
                    "api_graphql: %s.%s has a hidden reverse relation; not exposed",
                    spec.label, name,
                )
                continue
            relations[name] = RelationSpec(
                name=name, kind="m2m", target=target.label, many=True, query_name=name,
                remote_path=django_field.related_query_name(),  # type: ignore[attr-defined]
                django_field=django_field, local_key=spec.pk.attname,
            )
        elif isinstance(django_field, ForeignObject) and django_field.concrete:
            relations[name] = RelationSpec(
                name=name, kind="forward", target=target.label, many=False, query_name=name,
                local_attname=django_field.attname, django_field=django_field,
                target_key=django_field.target_field.attname,
            )
    return relations
