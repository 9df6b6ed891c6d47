"""One model per field kind and every relation shape, all plain Django."""

import uuid

from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.db import models


class UpperCharField(models.CharField):
    """A project's own subclass: must map as CharField."""


class OpaqueField(models.Field):
    """A third-party field nobody maps: falls back to String with a warning."""

    def db_type(self, connection):  # type: ignore[no-untyped-def]
        return "text"


class Scalars(models.Model):
    class Level(models.IntegerChoices):
        LOW = 1, "Low"
        HIGH = 2, "High"

    char = models.CharField(max_length=50)
    text = models.TextField(blank=True)
    slug = models.SlugField(blank=True)
    email = models.EmailField(blank=True)
    url = models.URLField(blank=True)
    integer = models.IntegerField(default=0)
    small = models.SmallIntegerField(null=True, blank=True)
    positive = models.PositiveIntegerField(null=True, blank=True)
    big = models.BigIntegerField(null=True, blank=True)
    floating = models.FloatField(null=True, blank=True)
    decimal = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    boolean = models.BooleanField(default=False)
    date = models.DateField(null=True, blank=True)
    datetime = models.DateTimeField(null=True, blank=True)
    time = models.TimeField(null=True, blank=True)
    duration = models.DurationField(null=True, blank=True)
    uuid = models.UUIDField(null=True, blank=True)
    binary = models.BinaryField(null=True, blank=True)
    json = models.JSONField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    attachment = models.FileField(upload_to="files", blank=True)
    kind = models.CharField(max_length=10, blank=True,
                            choices=[("a-b", "A then B"), ("c", "C")])
    level = models.IntegerField(choices=Level.choices, default=Level.LOW)
    shout = UpperCharField(max_length=20, blank=True)
    opaque = OpaqueField(null=True, blank=True)
    secret_token = models.CharField(max_length=40, blank=True)
    password = models.CharField(max_length=128, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(integer__gte=0), name="integer_not_negative"),
        ]


class Node(models.Model):
    """A self relation (a tree)."""

    name = models.CharField(max_length=50, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="children")


class Writer(models.Model):
    name = models.CharField(max_length=50)
    best_book = models.ForeignKey("Book", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="best_of")


class Book(models.Model):
    """Circular relations with Writer, a many-to-many both ways, a generic relation."""

    title = models.CharField(max_length=100)
    writer = models.ForeignKey(Writer, on_delete=models.PROTECT)
    co_writers = models.ManyToManyField(Writer, blank=True, related_name="co_written")
    labels = GenericRelation("Label")

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.title.lower() == "untitled":
            raise ValidationError("A book needs a real title.", code="untitled")


class Passport(models.Model):
    """A one-to-one (reverse: writer.passport)."""

    writer = models.OneToOneField(Writer, on_delete=models.CASCADE)
    number = models.CharField(max_length=20, unique=True)


class Label(models.Model):
    """A generic foreign key: a label on any object."""

    text = models.CharField(max_length=30)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveIntegerField()
    target = GenericForeignKey("content_type", "object_id")


class Place(models.Model):
    name = models.CharField(max_length=50)


class Restaurant(Place):
    """Multi-table inheritance."""

    serves_pizza = models.BooleanField(default=False)


class BigPlace(Place):
    """A proxy model: same table, its own type and permissions."""

    class Meta:
        proxy = True


class Sensor(models.Model):
    """A UUID primary key (SQLite stores it as 32 hex digits, PostgreSQL as uuid)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=50)


class Reading(models.Model):
    """UUIDs by reference: a foreign key and a many-to-many to a UUID key, a UUID column."""

    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE)
    batch = models.UUIDField(null=True, blank=True)
    value = models.IntegerField(default=0)
    seen_by = models.ManyToManyField(Sensor, blank=True, related_name="sightings")
