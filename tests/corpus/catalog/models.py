"""Models as a project writes them with popular third-party libraries."""

import json
import uuid
from typing import Any

from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django_countries.fields import CountryField
from djmoney.models.fields import MoneyField
from mptt.models import MPTTModel, TreeForeignKey
from phonenumber_field.modelfields import PhoneNumberField
from polymorphic.models import PolymorphicModel
from taggit.managers import TaggableManager
from treebeard.al_tree import AL_Node
from treebeard.mp_tree import MP_Node
from treebeard.ns_tree import NS_Node


class StreamValue(list):  # type: ignore[type-arg]
    """What a block-structured content field returns: data that renders as HTML."""

    def __str__(self) -> str:
        return "".join(f"<div class=\"block-{b.get('type')}\">{b.get('value')}</div>"
                       for b in self)


class StreamField(models.Field):  # type: ignore[type-arg]
    """A custom field storing JSON (like a CMS's block field); not a JSONField subclass."""

    def get_internal_type(self) -> str:
        return "JSONField"

    def db_type(self, connection: Any) -> str:
        return "jsonb" if connection.vendor == "postgresql" else "text"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return self.to_python(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, StreamValue) or value is None:
            return value
        if isinstance(value, str):
            value = json.loads(value)
        return StreamValue(value)

    def get_prep_value(self, value: Any) -> Any:
        return None if value is None else json.dumps(list(value))

    def value_to_string(self, obj: Any) -> str:
        return str(self.value_from_object(obj))


class Category(MPTTModel):
    name = models.CharField(max_length=50)
    parent = TreeForeignKey("self", null=True, blank=True, on_delete=models.CASCADE,
                            related_name="children")


class Folder(MP_Node):
    """A materialised-path tree (path, depth, numchild)."""

    name = models.CharField(max_length=50)


class Region(NS_Node):
    name = models.CharField(max_length=50)


class Section(AL_Node):
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="children_set")
    name = models.CharField(max_length=50)
    node_order_by = ["name"]


class Supplier(models.Model):
    """A text primary key up to 255 characters; a unique slug other tables refer to."""

    code = models.CharField(primary_key=True, max_length=255)
    slug = models.SlugField(unique=True)
    phone = PhoneNumberField(blank=True)
    country = CountryField(blank=True)
    markets = CountryField(multiple=True, blank=True)


class Product(PolymorphicModel):
    name = models.CharField(max_length=80)
    price = MoneyField(max_digits=10, decimal_places=2, default_currency="EUR")
    origin = CountryField()
    supplier = models.ForeignKey(Supplier, null=True, blank=True, on_delete=models.SET_NULL,
                                 to_field="slug", related_name="products")
    categories = models.ManyToManyField(Category, blank=True, related_name="products")
    body = StreamField(null=True, blank=True)
    tags = TaggableManager(blank=True)
    notes = GenericRelation("TextNote", object_id_field="object_id")
    counters = GenericRelation("IntNote")


class Book(Product):
    isbn = models.CharField(max_length=13)


class EBook(Book):
    download_url = models.URLField()


class Asset(models.Model):
    """A UUID primary key, the target of UUID generic relations."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    title = models.CharField(max_length=50)
    uuid_notes = GenericRelation("UuidNote")
    notes = GenericRelation("TextNote")


class TextNote(models.Model):
    """A generic relation whose object id is text (django-guardian's, django-comments'
    shape): it points at integer, text and UUID keys alike."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.CharField(max_length=255)
    target = GenericForeignKey("content_type", "object_id")
    text = models.CharField(max_length=100)


class IntNote(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey()
    value = models.IntegerField(default=0)


class UuidNote(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.UUIDField()
    target = GenericForeignKey()
    text = models.CharField(max_length=100)


class Device(models.Model):
    """Fields whose names say they hold secrets, and one that only looks like it."""

    name = models.CharField(max_length=50)
    key = models.CharField(max_length=64)
    signing_key = models.CharField(max_length=64)
    otp_seed = models.CharField(max_length=32)
    salt = models.CharField(max_length=16)
    private_notes = models.TextField(blank=True)
    keyboard_layout = models.CharField(max_length=10, default="us")
    monkey = models.CharField(max_length=10, blank=True)


class Shipment(models.Model):
    """A composite primary key (Django 5.2)."""

    pk = models.CompositePrimaryKey("supplier_code", "number")
    supplier_code = models.CharField(max_length=20)
    number = models.IntegerField()
