"""Generated rows for every exposed model of the corpus (model_bakery, seeded).

Trees are grown with their libraries' own APIs (a materialised path or nested set
made of random strings would be rows no project has); every other model is baked,
optional fields and many-to-many relations filled. Generic relations get targets
with integer, text and UUID keys, since baked object ids point nowhere.
"""

from __future__ import annotations

import itertools
import random
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from model_bakery import baker, generators

from api_graphql.schema import get_schema
from tests.corpus.catalog import models as catalog

ROWS_PER_MODEL = 4
_phones = itertools.count(10_000)


def _phone() -> str:
    return f"+336{next(_phones):08d}"


def _blocks() -> list[dict[str, Any]]:
    return [{"type": "heading", "value": f"Part {random.randint(1, 9)}"},
            {"type": "paragraph", "value": "<b>bold</b> text"}]


def _grow_trees() -> None:
    root = catalog.Category.objects.create(name="root")
    child = catalog.Category.objects.create(name="books", parent=root)
    catalog.Category.objects.create(name="novels", parent=child)
    catalog.Category.objects.create(name="music")
    docs = catalog.Folder.add_root(name="docs")
    docs.add_child(name="guides").add_child(name="install")
    docs.add_child(name="api")
    catalog.Folder.add_root(name="src")
    europe = catalog.Region.add_root(name="europe")
    europe.add_child(name="france")
    europe.add_child(name="italy")
    top = catalog.Section.add_root(name="top")
    top.add_child(name="news")
    top.add_child(name="sport")


TREES = {catalog.Category, catalog.Folder, catalog.Region, catalog.Section}


def _fitting(model: type[models.Model], name: str,
             targets: list[models.Model]) -> list[models.Model]:
    """Rows a generic foreign key can hold: a UUID object id points at a UUID key."""
    field: Any = model._meta.get_field(name)
    if isinstance(model._meta.get_field(field.fk_field), models.UUIDField):
        return list(catalog.Asset.objects.all())
    return targets


def _bake(model: type[models.Model], targets: list[models.Model]) -> None:
    extra: dict[str, Any] = {}
    if any(f.name == "polymorphic_ctype" for f in model._meta.concrete_fields):
        extra["polymorphic_ctype"] = ContentType.objects.get_for_model(
            model, for_concrete_model=False)
    if model._meta.label_lower == "testapp.scalars":
        extra["integer"] = random.randint(0, 10_000)  # a check constraint: not negative
    generic = [f.name for f in model._meta.private_fields
               if isinstance(f, GenericForeignKey)]
    # A many-to-many of a library's own kind (taggit's manager) is filled by its API.
    plain_m2m = all(type(f) is models.ManyToManyField for f in model._meta.many_to_many)
    optional = [f.name for f in model._meta.concrete_fields if not f.auto_created]
    for _ in range(ROWS_PER_MODEL):
        for _attempt in range(5):  # a random unique value may repeat
            # A generic foreign key points at a real row (some apps check it on save).
            extra.update({name: random.choice(_fitting(model, name, targets))
                          for name in generic})
            try:
                with transaction.atomic():
                    baker.make(model, _fill_optional=optional, make_m2m=plain_m2m, **extra)
                break
            except IntegrityError:
                continue


def _object_permissions(targets: list[models.Model]) -> None:
    """django-guardian checks that a permission fits its object: made by its API."""
    from django.contrib.auth.models import Group
    from guardian.shortcuts import assign_perm

    user = baker.make(get_user_model())
    group = baker.make(Group)
    for target in targets[:6]:
        codename = f"view_{target._meta.model_name}"
        assign_perm(f"{target._meta.app_label}.{codename}", user, target)
        assign_perm(f"{target._meta.app_label}.{codename}", group, target)


MADE_BY_THEIR_API = {"guardian.userobjectpermission", "guardian.groupobjectpermission"}


def _link_generic_targets() -> None:
    products = list(catalog.Product.objects.non_polymorphic().all())
    suppliers = list(catalog.Supplier.objects.all())
    assets = list(catalog.Asset.objects.all())
    for index, target in enumerate([*products, *suppliers, *assets]):
        catalog.TextNote.objects.create(target=target, text=f"note {index}")
    categories = list(catalog.Category.objects.all())
    for product in products:
        catalog.IntNote.objects.create(target=product, value=product.pk)
        product.categories.set(random.sample(categories, 2))
        product.tags.add(random.choice(["red", "green"]), "sale")
    for asset in assets:
        catalog.UuidNote.objects.create(target=asset, text="uuid note")
    catalog.Shipment.objects.create(supplier_code="s1", number=1)


def _teach_baker(model_list: list[type[models.Model]]) -> None:
    """Field classes baker does not know make values like the Django class they extend
    (a project's CharField subclass), or text."""
    mapping = generators.get_type_mapping()
    for model in model_list:
        for field in model._meta.concrete_fields:
            klass = type(field)
            if klass in mapping or generators.get(klass) is not None:
                continue
            known = next((mapping[base] for base in klass.__mro__[1:] if base in mapping), None)
            baker.generators.add(f"{klass.__module__}.{klass.__qualname__}",
                                 known or (lambda: "text"))


def populate() -> dict[str, int]:
    """Rows per exposed model label."""
    random.seed(11)
    baker.generators.add("tests.corpus.catalog.models.StreamField", _blocks)
    baker.generators.add("phonenumber_field.modelfields.PhoneNumberField", _phone)
    baker.generators.add("djmoney.models.fields.MoneyField",
                         lambda: Decimal(random.randint(0, 99_999)) / 100)
    graph = get_schema().graph
    _teach_baker([spec.model for spec in graph])
    _grow_trees()
    targets = [node for tree in TREES for node in tree._default_manager.all()]
    for spec in graph:
        if (spec.model not in TREES and not spec.model._meta.proxy
                and spec.label not in MADE_BY_THEIR_API):
            _bake(spec.model, targets)
    _object_permissions(targets)
    _link_generic_targets()
    return {spec.label: spec.model._default_manager.count() for spec in graph}
