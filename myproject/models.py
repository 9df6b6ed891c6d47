"""The demo content platform: plain Django models, nothing GraphQL-specific."""

from django.db import models


class User(models.Model):
    email = models.EmailField(unique=True)
    username = models.CharField(max_length=150)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "users"

    def __str__(self) -> str:
        return self.username


class Article(models.Model):
    title = models.CharField(max_length=200)
    content = models.TextField()
    author = models.ForeignKey(User, on_delete=models.CASCADE)
    published = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    #: An image (checked by its bytes, see ArticleConfig.upload_types), stored with the
    #: project's storage under MEDIA_ROOT/covers/.
    cover = models.FileField(upload_to="covers/", blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


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
