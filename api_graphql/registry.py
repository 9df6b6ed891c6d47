"""Which models are exposed, and how: a registry in the spirit of ``admin.site``.

Every model of every installed app is exposed with a default :class:`ModelConfig`
unless it matches the deny list (``conf.DEFAULT_DENY``) or ``API_GRAPHQL["EXCLUDE"]``.
A project configures a model without touching it, in settings or in an app's
``graphql.py`` module, which is autodiscovered like ``admin.py``::

    # blog/graphql.py
    import api_graphql
    from django.db.models import Q

    @api_graphql.register(Article)
    class ArticleConfig(api_graphql.ModelConfig):
        exclude = ["internal_notes"]

        def read_filter(self, user):
            if self.has_model_permission(user, "view"):
                return True
            return Q(published=True)
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, TypeVar

from django.apps import apps
from django.db import models
from django.db.models import Q
from django.utils.module_loading import autodiscover_modules

from api_graphql import secrets
from api_graphql.conf import DEFAULT_DENY, graphql_settings

logger = logging.getLogger(__name__)

Action = Literal["view", "add", "change", "delete"]
#: What a rule answers: every row (True), no row (False) or the rows matching a Q.
RowRule = bool | Q
ModelT = TypeVar("ModelT", bound=type["ModelConfig"])
T = TypeVar("T", bound=type)
HandwrittenOperation = Literal["query", "mutation"]


def _schema_changed() -> None:
    from api_graphql.schema import reset_schema

    reset_schema()


class ModelConfig:
    """How one model is exposed. Subclass it and register it; every default is safe."""

    #: Only these fields (None: all fields).
    fields: Iterable[str] | None = None
    #: Fields never exposed (secrets are hidden whatever this says).
    exclude: Iterable[str] = ()
    #: Fields whose names only look secret (``public_key``), exposed all the same;
    #: see api_graphql/secrets.py.
    not_secret: Iterable[str] = ()
    #: Mutations offered: any of "create", "update", "delete"; False or () for none.
    mutations: bool | Iterable[str] = True
    #: Whether the bulk writes of the offered mutations are offered too (bulk_update,
    #: bulk_delete, bulk_create, get_or_create, update_or_create; see api_graphql.bulk).
    bulk_mutations: bool = True
    #: Content types (patterns such as "image/*") each file field accepts, by field
    #: name; unnamed fields take API_GRAPHQL["UPLOAD_CONTENT_TYPES"] (see uploads.py).
    upload_types: dict[str, Iterable[str]] = {}
    #: Whether ``<model>_changes`` is offered.
    subscriptions: bool = True
    #: Properties and methods exposed as fields: names, or ``api_graphql.Computed``
    #: with loading hints (see ``api_graphql.computed``).
    computed: Iterable[Any] = ()
    #: ORM expressions exposed as fields (filterable and orderable): name -> expression.
    annotations: Mapping[str, Any] = {}
    #: Methods of the default manager / its QuerySet offered as chainable scopes
    #: (``article_list(scopes: [{published: true}])``, see ``api_graphql.scopes``).
    scopes: Iterable[str] = ()
    #: Model methods offered as mutations on one object: names (Django's change
    #: permission decides) or name -> "app.codename" / callable(user, obj)
    #: (``article_publish(pk)``, see ``api_graphql.actions``).
    actions: Iterable[str] | Mapping[str, Any] = ()
    #: Pin the GraphQL type name (root fields follow in snake case); None: the
    #: documented naming rule (docs/NAMING.md).
    type_name: str | None = None
    #: Whether ``read_filter``'s answer depends on nothing but the user's row and
    #: Django permissions (no other table, no clock): then a signed-in user's cache
    #: hit may skip Django's request path (``api_graphql.identity``). None: true for
    #: the default rule only.
    read_filter_reads_only_user: bool | None = None

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model

    def reads_only_user(self) -> bool:
        if self.read_filter_reads_only_user is not None:
            return self.read_filter_reads_only_user
        cls = type(self)
        return (cls.read_filter is ModelConfig.read_filter
                and cls.has_model_permission is ModelConfig.has_model_permission)

    # -- permissions -------------------------------------------------------------
    def has_model_permission(self, user: Any, action: Action) -> bool:
        """Django's own answer, as the admin asks it."""
        if user is None or not getattr(user, "is_active", False):
            return False
        opts = self.model._meta
        return bool(user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}"))

    def read_filter(self, user: Any) -> RowRule:
        """The rows ``user`` may read: True (all), False (none) or a Q.

        The default is Django's ``view`` permission (``change`` implies it, as in the
        admin), plus ``API_GRAPHQL["ANONYMOUS_READ"]`` for public models.
        """
        if self.has_model_permission(user, "view") or self.has_model_permission(user, "change"):
            return True
        label = self.model._meta.label_lower
        return any(fnmatch.fnmatch(label, p.lower()) for p in graphql_settings().anonymous_read)

    def write_filter(self, user: Any, action: Action) -> RowRule:
        """The rows ``user`` may create, change or delete: the model permission by default."""
        return self.has_model_permission(user, action)

    def mutation_enabled(self, action: str) -> bool:
        if isinstance(self.mutations, bool):
            return self.mutations
        return action in set(self.mutations)


class ExposureRegistry:
    """The configurations of the exposed models, filled by ``register`` and defaults."""

    def __init__(self) -> None:
        self._configs: dict[type[models.Model], ModelConfig] = {}
        self._excluded: set[type[models.Model]] = set()
        #: Hand-written ``@strawberry.type`` classes merged into the root types, by
        #: operation (see ``api_graphql.handwritten``).
        self.handwritten: dict[HandwrittenOperation, list[type]] = {"query": [], "mutation": []}

    def register_query(self, cls: T) -> T:
        """Merge a hand-written ``@strawberry.type`` class's fields into ``Query``."""
        return self._register_handwritten("query", cls)

    def register_mutation(self, cls: T) -> T:
        """Merge a hand-written ``@strawberry.type`` class's fields into ``Mutation``."""
        return self._register_handwritten("mutation", cls)

    def unregister_handwritten(self, cls: type) -> None:
        for classes in self.handwritten.values():
            if cls in classes:
                classes.remove(cls)
        _schema_changed()

    def _register_handwritten(self, operation: HandwrittenOperation, cls: T) -> T:
        if not hasattr(cls, "__strawberry_definition__"):
            raise TypeError(f"{cls!r} is not a @strawberry.type class; decorate it first "
                            "(@api_graphql.register_query above @strawberry.type)")
        if cls not in self.handwritten[operation]:
            self.handwritten[operation].append(cls)
        _schema_changed()
        return cls

    def register(
        self, model: type[models.Model], config_class: type[ModelConfig] | None = None
    ) -> None:
        self._excluded.discard(model)
        self._configs[model] = (config_class or ModelConfig)(model)

    def unregister(self, model: type[models.Model]) -> None:
        """Hide a model even if the defaults would expose it."""
        self._configs.pop(model, None)
        self._excluded.add(model)

    def config(self, model: type[models.Model]) -> ModelConfig:
        return self._configs.get(model) or ModelConfig(model)

    def exposed_models(self) -> list[type[models.Model]]:
        """Every exposed model, in app and model order (stable across runs)."""
        conf = graphql_settings()
        result = []
        for model in apps.get_models():
            label = model._meta.label_lower
            if model in self._excluded or _matches(label, conf.exclude):
                continue
            explicit = model in self._configs or _matches(label, conf.include)
            if not explicit and (_matches(label, DEFAULT_DENY)
                                 or secrets.is_credential_model(label)):
                continue
            if model._meta.pk is None:
                continue
            if getattr(model._meta, "is_composite_pk", False):
                _warn_once(label, "api_graphql: %s has a composite primary key, which the API "
                           "does not address yet; not exposed", label)
                continue
            result.append(model)
        return result


_warned: set[str] = set()


def _warn_once(key: str, message: str, *args: Any) -> None:
    if key not in _warned:
        _warned.add(key)
        logger.warning(message, *args)


def _matches(label: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(label, pattern.lower()) for pattern in patterns)


site = ExposureRegistry()


def register(model: type[models.Model]) -> Callable[[ModelT], ModelT]:
    """Class decorator: ``@register(Article) class ArticleConfig(ModelConfig): ...``."""

    def decorator(config_class: ModelT) -> ModelT:
        site.register(model, config_class)
        return config_class

    return decorator


def register_query(cls: T) -> T:
    """Class decorator: ``@register_query @strawberry.type class BlogQuery: ...``."""
    return site.register_query(cls)


def register_mutation(cls: T) -> T:
    """Class decorator: ``@register_mutation @strawberry.type class BlogMutation: ...``."""
    return site.register_mutation(cls)


def autodiscover() -> None:
    autodiscover_modules("graphql")
