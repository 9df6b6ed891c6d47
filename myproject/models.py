"""The demo content platform: plain Django models, nothing GraphQL-specific."""

from __future__ import annotations

import math

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Length


class User(models.Model):
    email = models.EmailField(unique=True)
    username = models.CharField(max_length=150)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "users"

    def __str__(self) -> str:
        return self.username


class ArticleQuerySet(models.QuerySet["Article"]):
    def published(self) -> ArticleQuerySet:
        """Articles readers can see."""
        return self.filter(published=True)

    def by_author(self, user: User) -> ArticleQuerySet:
        return self.filter(author=user)

    def longer_than(self, words: int) -> ArticleQuerySet:
        """Articles whose content has more than ``words`` characters divided by six
        (a word is about six characters): the SQL cousin of ``reading_time``."""
        if words < 0:
            raise ValidationError({"words": "Must be zero or more."})
        return self.alias(content_length=Length("content")).filter(
            content_length__gt=words * 6)


class Article(models.Model):
    title = models.CharField(max_length=200)
    content = models.TextField()
    author = models.ForeignKey(User, on_delete=models.CASCADE)
    published = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    #: An image (checked by its bytes, see ArticleConfig.upload_types), stored with the
    #: project's storage under MEDIA_ROOT/covers/.
    cover = models.FileField(upload_to="covers/", blank=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def reading_time(self) -> int:
        """Minutes to read the content, at 200 words a minute (at least one)."""
        return max(1, math.ceil(len(self.content.split()) / 200))

    @property
    def tag_names(self) -> list[str]:
        return sorted(tag.name for tag in self.tags.all())

    def summary(self, words: int = 30) -> str:
        """The first ``words`` words of the content."""
        if words < 1:
            raise ValidationError({"words": "Ask for at least one word."})
        return " ".join(self.content.split()[:words])

    def publish(self) -> None:
        """Make the article public; an empty article cannot be published."""
        if not self.content.strip():
            raise ValidationError({"content": "An empty article cannot be published."})
        self.published = True
        self.save(update_fields=["published"])


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)
    articles = models.ManyToManyField(Article, related_name="tags", blank=True)

    def __str__(self) -> str:
        return self.name


class Comment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending review"
        VISIBLE = "visible", "Visible"
        HIDDEN = "hidden", "Hidden"

    article = models.ForeignKey(Article, on_delete=models.CASCADE)
    author = models.ForeignKey(User, on_delete=models.CASCADE)
    body = models.TextField(max_length=5000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Comment {self.pk} on {self.article_id}"


class Profile(models.Model):
    class Role(models.IntegerChoices):
        READER = 1
        AUTHOR = 2
        EDITOR = 3

    user = models.OneToOneField(User, on_delete=models.CASCADE)
    bio = models.TextField(blank=True)
    website = models.URLField(blank=True)
    role = models.PositiveSmallIntegerField(choices=Role.choices, default=Role.READER)

    def __str__(self) -> str:
        return f"Profile of {self.user_id}"
