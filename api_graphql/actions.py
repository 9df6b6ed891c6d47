"""Actions: model methods as mutations on one object.

    @api_graphql.register(Article)
    class ArticleConfig(api_graphql.ModelConfig):
        actions = {"publish": "myproject.change_article"}   # or a callable(user, obj)

``article_publish(pk: ID!, ...arguments): ArticlePayload`` finds the row among those
the caller may read, asks the permission (a Django permission, or the callable with
the user and the object), runs the method in a transaction on the row locked for
update, and returns the object as it is afterwards. A ``ValidationError`` raised
inside becomes the payload's field errors and rolls the transaction back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import strawberry
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction

from api_graphql import type_factory
from api_graphql.errors import GraphQLUserError, PermissionDenied
from api_graphql.root_fields import RootField
from api_graphql.signatures import Argument, arguments, call_arguments, graphql_arguments
from api_graphql.type_factory import REQUIRED

if TYPE_CHECKING:
    from api_graphql.context import RequestContext
    from api_graphql.model_graph import ModelGraph, ModelSpec
    from api_graphql.selection import FieldSelection

logger = logging.getLogger(__name__)
#: Who may call an action: a permission ("app.codename") or ``(user, obj) -> bool``.
Permission = str | Callable[[Any, Any], bool]


@dataclass
class ActionSpec:
    name: str
    permission: Permission
    arguments: dict[str, Argument] = field(default_factory=dict)
    description: str | None = None


def action_specs(spec: ModelSpec, graph: ModelGraph) -> dict[str, ActionSpec]:
    configured: Any = spec.config.actions
    opts = spec.model._meta
    if not isinstance(configured, dict):  # a list of names: Django's change permission
        configured = {name: f"{opts.app_label}.change_{opts.model_name}" for name in configured}
    result: dict[str, ActionSpec] = {}
    for name, permission in configured.items():
        where = f"{opts.label}.{name}"
        method = getattr(spec.model, name, None)
        if name.startswith("_") or not callable(method) or isinstance(method, type):
            raise ImproperlyConfigured(f"{where} (in ModelConfig.actions) is not a model method.")
        if not (isinstance(permission, str) or callable(permission)):
            raise ImproperlyConfigured(f"{where}: the permission must be 'app.codename' or a "
                                       "callable(user, obj).")
        doc = (method.__doc__ or "").strip().split("\n")[0] or None
        result[name] = ActionSpec(name, permission, arguments(method, where, graph), doc)
    return result


def _allowed(action: ActionSpec, user: Any, obj: Any) -> bool:
    if user is None or not getattr(user, "is_active", False):
        return False
    if isinstance(action.permission, str):
        return bool(user.has_perm(action.permission))
    return bool(action.permission(user, obj))


def action_fields(spec: ModelSpec) -> list[RootField]:
    from api_graphql.mutations import Refused, _field_errors, _payload, payload_name

    fields: list[RootField] = []
    for action in spec.actions.values():
        def run(context: RequestContext, selection: FieldSelection,
                action: ActionSpec = action) -> Any:
            where = f"{spec.type_name}.{action.name}()"
            kwargs = call_arguments(action.arguments, selection.args, context.scope, where)
            readable = context.scope.readable(spec)
            if readable is None:
                raise PermissionDenied(f"You do not have permission to view {spec.type_name}.")
            pk = selection.args["pk"]
            try:
                key = spec.pk.django_field.to_python(pk)
            except ValidationError:
                raise GraphQLUserError(
                    f"Invalid primary key for {spec.type_name}: {pk!r}") from None
            try:
                with transaction.atomic():
                    if not readable.filter(pk=key).exists():
                        raise Refused([{"field": "pk", "code": "not_found",
                                        "message": f"{spec.type_name} not found."}])
                    obj = spec.model._default_manager.select_for_update().get(pk=key)
                    if not _allowed(action, context.scope.user, obj):
                        raise PermissionDenied(f"You may not call {where} on this object.")
                    try:
                        getattr(obj, action.name)(**kwargs)
                    except ValidationError as error:
                        raise Refused(_field_errors(error)) from None
            except Refused as refused:
                return _payload(context, spec, selection, pk=pk, errors=refused.errors)
            except GraphQLUserError:
                raise
            except Exception as error:
                logger.exception("api_graphql: %s raised", where)
                raise GraphQLUserError(f"{where} failed ({type(error).__name__}).") from error
            return _payload(context, spec, selection, pk=obj.pk)

        fields.append(RootField(
            f"{spec.root_name}_{action.name}", "mutation",
            type_factory.ref(payload_name(spec)), run,
            {"pk": (strawberry.ID, REQUIRED), **graphql_arguments(action.arguments)},
            action.description or f"Run {spec.model.__name__}.{action.name}() on one object.",
        ))
    return fields
