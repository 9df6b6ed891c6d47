"""The permission matrix's ground truth, derived from Django and nothing of ours.

Who may read or write what is decided here the way Django decides it:
``user.has_perm("<app>.<action>_<model>")`` (superusers have every permission,
inactive and anonymous users none; ``change`` implies reading, as in the admin),
plus the row rules the demo documents in ``myproject/graphql.py``, written again
here as plain Python predicates over model instances. The API's answers are then
compared with these; no expectation is computed by asking api_graphql.

The data set is generated from ``Model._meta`` of every exposed model, so a model
added to the registry is seeded, queried, written and subscribed to without a
new test.
"""

from __future__ import annotations

import datetime
import decimal
import itertools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Permission
from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.db import models

ROLES = ("anonymous", "no_permission", "view_only", "all_permissions", "staff", "superuser")
#: A seventh row beyond the six of the issue: view on one model in three, add and delete
#: (without view) on the next, change only (which implies view) on the third, so relations
#: between readable and unreadable models, and writes without view, are covered.
PARTIAL = "partial"
ALL_ROLES = (*ROLES, PARTIAL)
OPERATIONS = ("list", "get", "count", "relation", "filter_relation",
              "create", "update", "delete", "delete_cascade", "bulk_update", "bulk_delete",
              "upsert", "upload",
              "subscribe", "computed", "scope", "aggregate", "action", "handwritten")
ROWS_PER_MODEL = 6
PASSWORD = "a-long-test-password"


class _All:
    """A public row rule that covers every row."""

    def __call__(self, obj: Any) -> bool:
        return True


ALL_ROWS = _All()

#: The demo's documented public row rules (myproject/graphql.py), by model label:
#: anyone reads published articles, every tag, and the visible comments of published
#: articles. Everything else needs Django's view (or change) permission.
PUBLIC_ROWS: dict[str, Callable[[Any], bool]] = {
    "myproject.article": lambda article: bool(article.published),
    "myproject.tag": ALL_ROWS,
    "myproject.comment": lambda comment: (comment.status == "visible"
                                          and bool(comment.article.published)),
}

#: Row rules that depend on who asks: a task run is readable by the user who started
#: it (api_graphql/tasks/graphql.py), by the column that names them.
OWNER_ROWS: dict[str, str] = {"api_graphql_tasks.taskrun": "started_by_id"}


# -- Django's answers --------------------------------------------------------------
def label_of(model: type[models.Model]) -> str:
    return model._meta.label_lower


def has_action(user: Any, model: type[models.Model], action: str) -> bool:
    """Django's own rule, as the admin asks it."""
    if user is None or not user.is_active:
        return False
    opts = model._meta
    return bool(user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}"))


def model_readable(user: Any, model: type[models.Model]) -> bool:
    """Every row: the view permission, or change (which implies view in the admin)."""
    return has_action(user, model, "view") or has_action(user, model, "change")


def signed_in(user: Any) -> bool:
    return user is not None and user.is_active and user.is_authenticated


def any_readable(user: Any, model: type[models.Model]) -> bool:
    """Some rows may be readable (the permission, or a public or owner row rule)."""
    return (model_readable(user, model) or label_of(model) in PUBLIC_ROWS
            or (label_of(model) in OWNER_ROWS and signed_in(user)))


def fully_readable(user: Any, model: type[models.Model]) -> bool:
    return model_readable(user, model) or PUBLIC_ROWS.get(label_of(model)) is ALL_ROWS


def readable_as(user: Any, model: type[models.Model], obj: models.Model) -> bool:
    """Whether ``user`` may read ``obj`` seen as a row of ``model`` (a proxy or parent)."""
    if model_readable(user, model):
        return True
    owner = OWNER_ROWS.get(label_of(model))
    if owner is not None and signed_in(user) and getattr(obj, owner) == user.pk:
        return True
    rule = PUBLIC_ROWS.get(label_of(model))
    return bool(rule is not None and rule(obj))


def row_readable(user: Any, obj: models.Model) -> bool:
    return readable_as(user, type(obj), obj)


#: Models whose public rule reads another model's rows (a comment is public while its
#: article is published): their changes are not mixed with that model's in one step
#: of the subscription matrix, so what a subscriber may see is decided unambiguously.
RULE_READS: dict[str, set[str]] = {"myproject.comment": {"myproject.article"}}


def stream_of(model: type[models.Model]) -> type[models.Model]:
    """Rows live in the concrete model's table; a proxy shares its stream."""
    return model._meta.concrete_model or model


def streams_changed_by(model: type[models.Model]) -> list[type[models.Model]]:
    """A saved Restaurant is a changed Place too (multi-table inheritance)."""
    base = stream_of(model)
    return [base, *base._meta.get_parent_list()]


# -- roles ---------------------------------------------------------------------------
def partial_actions(exposed: list[type[models.Model]]) -> dict[str, tuple[str, ...]]:
    """The partial role's permissions, by model label (see PARTIAL)."""
    pattern: tuple[tuple[str, ...], ...] = (("view",), ("add", "delete"), ("change",))
    ordered = sorted(exposed, key=label_of)
    return {label_of(m): pattern[i % 3] for i, m in enumerate(ordered)}


def permissions_for(model: type[models.Model], actions: Iterable[str]) -> list[Permission]:
    ct = ContentType.objects.get_for_model(model, for_concrete_model=False)
    codenames = [f"{action}_{model._meta.model_name}" for action in actions]
    return list(Permission.objects.filter(content_type=ct, codename__in=codenames))


def make_role_users(exposed: list[type[models.Model]], suffix: str = "") -> dict[str, Any]:
    """One account per role; permissions granted per model through Django's tables."""
    accounts = get_user_model()._default_manager

    def user(name: str, *, staff: bool = False, superuser: bool = False,
             actions: Callable[[type[models.Model]], tuple[str, ...]] = lambda m: ()) -> Any:
        username = f"{name}{suffix}"
        if superuser:
            return accounts.create_superuser(username, f"{username}@example.com", PASSWORD)
        account = accounts.create_user(username, f"{username}@example.com", PASSWORD,
                                       is_staff=staff)
        granted = [p for m in exposed for p in permissions_for(m, actions(m))]
        account.user_permissions.set(granted)
        return get_user_model()._default_manager.get(pk=account.pk)  # no stale perm cache

    partial = partial_actions(exposed)
    every = ("view", "add", "change", "delete")
    return {
        "anonymous": AnonymousUser(),
        "no_permission": user("nobody"),
        "view_only": user("viewer", actions=lambda m: ("view",)),
        "all_permissions": user("editor", actions=lambda m: every),
        "staff": user("staffer", staff=True),
        "superuser": user("root", superuser=True),
        PARTIAL: user("partial", actions=lambda m: partial[label_of(m)]),
    }


# -- values --------------------------------------------------------------------------
def _text(model: type[models.Model], field: models.Field, i: int) -> str:
    value = f"{i}-{model._meta.model_name}-{field.name}"
    return value[: field.max_length] if field.max_length else value


def python_value(model: type[models.Model], field: models.Field, i: int) -> Any:
    """A valid value of ``field`` for the i-th row (unique per i)."""
    if field.choices:
        options = [value for value, _ in field.flatchoices if value not in ("", None)]
        return options[i % len(options)]
    if isinstance(field, models.BooleanField):
        return i % 2 == 0
    if isinstance(field, models.EmailField):
        return f"{model._meta.model_name}{i}@example.com"
    if isinstance(field, models.URLField):
        return f"https://example.com/{model._meta.model_name}/{i}"
    if isinstance(field, models.GenericIPAddressField):
        return f"10.0.{i // 250}.{i % 250 + 1}"
    if isinstance(field, models.CharField | models.TextField):
        return _text(model, field, i)
    if isinstance(field, models.DecimalField):
        return decimal.Decimal(f"{i}.25")
    if isinstance(field, models.FloatField):
        return i + 0.5
    if isinstance(field, models.IntegerField):  # every integer kind, positive included
        return i + 1
    if isinstance(field, models.DateTimeField):
        return datetime.datetime(2024, 1, 1, 12, 0, tzinfo=datetime.UTC) + datetime.timedelta(
            days=i)
    if isinstance(field, models.DateField):
        return datetime.date(2024, 1, 1) + datetime.timedelta(days=i)
    if isinstance(field, models.TimeField):
        return datetime.time(12, i % 60)
    if isinstance(field, models.DurationField):
        return datetime.timedelta(hours=i)
    if isinstance(field, models.UUIDField):
        return uuid.UUID(int=i + 1)
    if isinstance(field, models.JSONField):
        return {"i": i}
    if isinstance(field, models.BinaryField):
        return bytes([i % 256])
    if isinstance(field, models.FileField):
        return ""
    return f"value-{i}"


def is_required(field: models.Field) -> bool:
    """Django's rule for a field a form would require (no null, blank or default)."""
    return not (field.null or field.blank or field.has_default()
                or getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


def settable_fields(model: type[models.Model]) -> list[models.Field]:
    """Concrete fields a row is created with (not the pk, not parent links)."""
    result = []
    for f in model._meta.concrete_fields:
        if f.primary_key or getattr(f.remote_field, "parent_link", False):
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            continue
        result.append(f)
    return result


def generic_keys(model: type[models.Model]) -> list[GenericForeignKey]:
    return [f for f in model._meta.private_fields if isinstance(f, GenericForeignKey)]


# -- the data set ----------------------------------------------------------------------
@dataclass
class DataSet:
    exposed: list[type[models.Model]]
    rows: dict[str, list[models.Model]] = field(default_factory=dict)
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(100))

    def fresh_index(self) -> int:
        return next(self.counter)

    def targets(self, model: type[models.Model]) -> list[models.Model]:
        """Every stored row of ``model`` (a proxy or parent sees its relatives' rows)."""
        return list(model._default_manager.order_by("pk"))

    def make(self, model: type[models.Model], i: int, *, optional: bool = True) -> models.Model:
        """One valid row, saved with the ORM (fires signals like any save)."""
        values: dict[str, Any] = {}
        gfk_columns = {name for gfk in generic_keys(model) for name in (gfk.ct_field, gfk.fk_field)}
        for f in settable_fields(model):
            if f.name in gfk_columns:
                continue
            if f.is_relation:
                target_model = f.related_model
                assert isinstance(target_model, type)
                if target_model is model:
                    pool = list(self.rows.get(label_of(model), []))
                else:
                    pool = self.targets(target_model)
                if f.unique:  # a one-to-one: only targets nobody points at yet
                    taken = set(model._default_manager.values_list(f.attname, flat=True))
                    pool = [t for t in pool if t.pk not in taken] or [
                        self.make(target_model, self.fresh_index(), optional=False)]
                    values[f.attname] = pool[0].pk
                    continue
                if f.null and (not optional or i % 3 == 2 or not pool):
                    continue
                assert pool, f"no {target_model} row for {model}.{f.name}"
                values[f.attname] = pool[i % len(pool)].pk
                continue
            if not optional and not is_required(f) and not f.choices:
                continue
            if isinstance(f, models.BinaryField | models.FileField) or (
                    f.null and f.blank and not optional):
                continue
            values[f.attname] = python_value(model, f, i)
        for gfk in generic_keys(model):
            candidates = [m for m in self.exposed
                          if m is not model and not m._meta.proxy
                          and self.rows.get(label_of(m))
                          and isinstance(m._meta.pk, models.AutoField | models.BigAutoField)]
            target_model = candidates[i % len(candidates)]
            target = self.rows[label_of(target_model)][i % len(self.rows[label_of(target_model)])]
            ct = ContentType.objects.get_for_model(target_model, for_concrete_model=False)
            values[model._meta.get_field(gfk.ct_field).attname] = ct.pk
            values[gfk.fk_field] = target.pk
        return model._default_manager.create(**values)

    def link_many(self, model: type[models.Model], obj: models.Model, i: int) -> None:
        for m2m in model._meta.many_to_many:
            pool = self.targets(m2m.related_model)  # type: ignore[arg-type]
            if pool and i % 3 != 2:
                getattr(obj, m2m.name).set([pool[i % len(pool)], pool[(i + 1) % len(pool)]])


def creation_order(exposed: list[type[models.Model]]) -> list[type[models.Model]]:
    """Models after the models their required foreign keys point to; generic keys last."""
    remaining = sorted(exposed, key=label_of)
    done: list[type[models.Model]] = []

    def ready(model: type[models.Model]) -> bool:
        if generic_keys(model):
            return all(m in done or m is model or bool(generic_keys(m)) for m in remaining)
        for f in settable_fields(model):
            target = f.related_model
            if (f.is_relation and not f.null and target is not model
                    and target in remaining and target not in done):
                return False
        return True

    while remaining:
        model = next((m for m in remaining if ready(m)), remaining[0])
        remaining.remove(model)
        done.append(model)
    return done


def seed(exposed: list[type[models.Model]], rows: int = ROWS_PER_MODEL) -> DataSet:
    data = DataSet(exposed)
    for model in creation_order(exposed):
        data.rows[label_of(model)] = [data.make(model, i) for i in range(rows)]
    for model in exposed:
        for i, obj in enumerate(data.rows[label_of(model)]):
            data.link_many(model, obj, i)
    # Nullable keys to models created later (a writer's best book): filled now.
    for model in exposed:
        for f in settable_fields(model):
            if not (f.is_relation and f.null):
                continue
            pool = data.targets(f.related_model)  # type: ignore[arg-type]
            for i, obj in enumerate(data.rows[label_of(model)]):
                if getattr(obj, f.attname) is None and pool and i % 3 != 2:
                    setattr(obj, f.attname, pool[(i + 1) % len(pool)].pk)
                    obj.save(update_fields=[f.name])
    return data


# -- relations, as Django sees them -----------------------------------------------------
def related_objects(obj: models.Model, django_field: Any) -> list[models.Model]:
    """The rows a relation of ``obj`` holds (zero or one for a to-one relation)."""
    if isinstance(django_field, GenericForeignKey):
        ct_id = getattr(obj, obj._meta.get_field(django_field.ct_field).attname)
        model = ContentType.objects.get_for_id(ct_id).model_class()
        if model is None:
            return []
        return list(model._default_manager.filter(pk=getattr(obj, django_field.fk_field)))
    if isinstance(django_field, GenericRelation) or (
            django_field.many_to_many and django_field.concrete):
        return list(getattr(obj, django_field.name).all())
    if not django_field.concrete:  # a reverse relation: ask the other side
        remote = django_field.remote_field
        return list(django_field.related_model._default_manager.filter(
            **{remote.name: obj.pk}))
    target_pk = getattr(obj, django_field.attname)
    if target_pk is None:
        return []
    return list(django_field.related_model._default_manager.filter(pk=target_pk))


def wire(value: Any) -> Any:
    """A Python value as a GraphQL variable value (JSON)."""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime.timedelta):
        from django.utils.duration import duration_iso_string

        return duration_iso_string(value)
    return value
