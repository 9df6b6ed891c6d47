"""Computed fields: model properties, methods and ORM annotations as GraphQL fields.

Configured beside the app, the model untouched::

    @api_graphql.register(Article)
    class ArticleConfig(api_graphql.ModelConfig):
        computed = [
            "reading_time",                                   # a property: -> int
            "summary",                                        # a method: (words: int = 30) -> str
            api_graphql.Computed("tag_names", prefetch=["tags"]),
        ]
        annotations = {"comment_total": Count("comment"), "title_length": Length("title")}

Properties and methods run in Python on model instances: one query loads the
instances of every row of a level at once (with the ``prefetch`` / ``select_related``
hints of the fields selected), so a list of 100 articles costs one extra query, not
100. Their types come from the return annotations. Annotations are SQL: each is read
as a correlated subquery beside the row's columns (no extra query), so it can be
filtered and ordered on like a column, at any depth. Whoever may read a row may read
its computed fields; an annotation runs as written (like a ``read_filter``), so it
should not count rows its readers may not see.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models
from django.db.models import Expression, OuterRef, Q, Subquery

from api_graphql import field_types
from api_graphql.errors import GraphQLUserError
from api_graphql.signatures import Argument, ValueType, arguments, return_type

if TYPE_CHECKING:
    from api_graphql.model_graph import FieldSpec, ModelGraph, ModelSpec

logger = logging.getLogger(__name__)
ComputedKind = Literal["property", "method", "annotation"]


@dataclass(frozen=True)
class Computed:
    """A property or method named in ``ModelConfig.computed``, with loading hints:
    ``prefetch`` for a property that walks to-many relations, ``select_related`` for
    to-one relations (Django's own spellings)."""

    name: str
    prefetch: Iterable[str] = ()
    select_related: Iterable[str] = ()
    description: str | None = None


class ComputedFailed(GraphQLUserError):
    code = "COMPUTED_FIELD_FAILED"


@dataclass
class ComputedSpec:
    name: str
    kind: ComputedKind
    type: ValueType
    description: str | None = None
    arguments: dict[str, Argument] = field(default_factory=dict)
    prefetch: tuple[str, ...] = ()
    select_related: tuple[str, ...] = ()
    expression: Any = None
    #: Annotations: a column-like spec for filters and ordering.
    column: FieldSpec | None = None

    @property
    def is_sql(self) -> bool:
        return self.kind == "annotation"


def _annotation_spec(model: type[models.Model], name: str, expression: Any) -> ComputedSpec:
    from api_graphql.model_graph import FieldSpec

    where = f"{model._meta.label} annotation {name!r}"
    if not isinstance(expression, Expression | models.F):
        raise ImproperlyConfigured(f"{where}: expected an ORM expression, got {expression!r}.")
    try:
        resolved = model._default_manager.annotate(**{name: expression}).query.annotations[name]
        output = resolved.output_field
    except Exception as error:
        raise ImproperlyConfigured(f"{where}: Django cannot resolve it ({error}).") from None
    kind = field_types.scalar_kind(output)
    if kind is field_types.ID:  # a key: the scalar of the column it is
        kind = field_types.INT if isinstance(output, models.IntegerField) else field_types.STRING
    column = FieldSpec(name=name, attname=name, django_field=output, kind=kind, nullable=True,
                       editable=False)
    return ComputedSpec(name, "annotation", ValueType(kind, True), expression=expression,
                        column=column)


def _python_spec(model: type[models.Model], entry: str | Computed) -> ComputedSpec:
    item = entry if isinstance(entry, Computed) else Computed(entry)
    where = f"{model._meta.label}.{item.name}"
    attribute = getattr(model, item.name, None)
    if attribute is None:
        raise ImproperlyConfigured(f"{where} (in ModelConfig.computed) does not exist.")
    if isinstance(attribute, property) and attribute.fget is not None:
        kind: ComputedKind = "property"
        function: Callable[..., Any] = attribute.fget
    elif isinstance(attribute, cached_property):
        kind, function = "property", attribute.func
    elif callable(attribute) and not isinstance(attribute, type):
        kind, function = "method", attribute
    else:
        raise ImproperlyConfigured(f"{where} is neither a property nor a method.")
    return ComputedSpec(
        item.name, kind, return_type(function, where),
        description=item.description or (function.__doc__ or "").strip().split("\n")[0] or None,
        prefetch=tuple(item.prefetch), select_related=tuple(item.select_related),
    )


def computed_fields(spec: ModelSpec, graph: ModelGraph) -> dict[str, ComputedSpec]:
    """The computed fields ``spec``'s config names, typed; start-up errors say why not."""
    config = spec.config
    model = spec.model
    result: dict[str, ComputedSpec] = {}
    taken = set(spec.fields) | set(spec.relations) | {f"{r}_count" for r in spec.relations}
    entries: list[tuple[str, str | Computed | None, Any]] = []
    for entry in config.computed:
        entries.append((entry.name if isinstance(entry, Computed) else entry, entry, None))
    annotations: Mapping[str, Any] = config.annotations
    for name, expression in annotations.items():
        entries.append((name, None, expression))
    for name, entry, expression in entries:
        if name in taken or name in result:
            raise ImproperlyConfigured(
                f"{model._meta.label}: computed field {name!r} clashes with another field.")
        computed = (_python_spec(model, entry) if entry is not None
                    else _annotation_spec(model, name, expression))
        if computed.kind == "method":
            method = getattr(model, name)
            computed.arguments = arguments(method, f"{model._meta.label}.{name}", graph)
        result[name] = computed
    return result


# -- SQL: annotations at any depth --------------------------------------------------
def annotation_subquery(spec: ModelSpec, computed: ComputedSpec, prefix: str) -> Subquery:
    """The annotation of the row reached by ``prefix`` (``""`` for the row itself), as
    a correlated subquery: it adds no GROUP BY to the outer query, works through
    relations, and many aggregates side by side do not multiply each other's joins."""
    inner = (spec.model._default_manager.filter(pk=OuterRef(f"{prefix}pk"))
             .annotate(**{computed.name: computed.expression}).order_by()
             .values(computed.name)[:1])
    return Subquery(inner, output_field=computed.column.django_field)  # type: ignore[union-attr]


def annotation_condition(spec: ModelSpec, computed: ComputedSpec, prefix: str, q: Q) -> Q:
    """``q`` (lookups on the annotation's name) for the row reached by ``prefix``."""
    matching = (spec.model._default_manager.annotate(**{computed.name: computed.expression})
                .filter(q).values("pk"))
    return Q((f"{prefix}pk__in", matching))


# -- Python: properties and methods on instances --------------------------------------
class Instances:
    """The model instances of one level of a read, loaded once for every computed
    field selected there (with the union of their loading hints)."""

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.prefetch: set[str] = set()
        self.select_related: set[str] = set()

    def want(self, computed: ComputedSpec) -> None:
        self.prefetch.update(computed.prefetch)
        self.select_related.update(computed.select_related)

    def fetch(self, keys: list[Any]) -> dict[Any, Any]:
        qs = self.spec.model._default_manager.filter(pk__in=keys)
        if self.select_related:
            qs = qs.select_related(*sorted(self.select_related))
        if self.prefetch:
            qs = qs.prefetch_related(*sorted(self.prefetch))
        return {obj.pk: obj for obj in qs}


def evaluate(spec: ModelSpec, computed: ComputedSpec, instance: models.Model | None,
             kwargs: dict[str, Any]) -> Any:
    """The wire value of one computed field on one instance; a failure is a clear error."""
    if instance is None:
        return None
    where = f"{spec.type_name}.{computed.name}"
    try:
        value = getattr(instance, computed.name)
        if computed.kind == "method":
            value = value(**kwargs)
    except ValidationError as error:
        raise ComputedFailed(f"{where} refused: {'; '.join(error.messages)}") from None
    except Exception as error:
        logger.exception("api_graphql: %s raised on %s %s", where, spec.type_name, instance.pk)
        raise ComputedFailed(
            f"{where} failed on {spec.type_name} {instance.pk} ({type(error).__name__}).",
        ) from error
    if value is None and not computed.type.nullable:
        raise ComputedFailed(f"{where} returned None on {spec.type_name} {instance.pk}, "
                             "but its annotation does not allow it.")
    return computed.type.to_wire(value)
