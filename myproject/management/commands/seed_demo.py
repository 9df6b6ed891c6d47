"""Fill the demo database with a realistic content platform (idempotent).

Runs in seconds with bulk inserts; those send no signals, so seeding publishes
no change events. Running it again changes nothing.
"""

from __future__ import annotations

import random
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction

from myproject.models import Article, Comment, Profile, Tag, User

WORDS = (
    "django graphql realtime typescript channels daphne redis postgres schema query "
    "mutation subscription model field relation filter order page cursor event socket "
    "worker cluster cache index migration admin token session permission client"
).split()
DEMO_PASSWORD = "demo-password"


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize()


class Command(BaseCommand):
    help = "Create demo users, articles, tags and comments (does nothing if present)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--articles", type=int, default=5000)
        parser.add_argument("--users", type=int, default=200)

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        self._accounts()
        if Article.objects.exists():
            self.stdout.write("Demo data already present.")
            return
        rng = random.Random(42)
        users = User.objects.bulk_create(
            User(email=f"user{i}@example.com", username=f"user{i}", is_active=i % 17 != 0)
            for i in range(options["users"])
        )
        Profile.objects.bulk_create(
            Profile(user=user, bio=sentence(rng, 12), role=rng.choice([1, 1, 2, 3]))
            for user in users[: len(users) // 2]
        )
        tags = Tag.objects.bulk_create(Tag(name=word) for word in WORDS)
        articles = Article.objects.bulk_create(
            Article(
                title=sentence(rng, 6),
                content=sentence(rng, 80),
                author=rng.choice(users),
                published=rng.random() < 0.7,
            )
            for _ in range(options["articles"])
        )
        through = Tag.articles.through
        through.objects.bulk_create(
            through(tag_id=tag.pk, article_id=article.pk)
            for article in articles
            for tag in rng.sample(tags, 3)
        )
        statuses = [Comment.Status.VISIBLE] * 3 + [Comment.Status.PENDING, Comment.Status.HIDDEN]
        Comment.objects.bulk_create(
            Comment(article=article, author=rng.choice(users), body=sentence(rng, 20),
                    status=rng.choice(statuses))
            for article in articles
            for _ in range(rng.randint(0, 4))
        )
        self.stdout.write(
            f"Created {len(users)} users, {len(articles)} articles, {len(tags)} tags, "
            f"{Comment.objects.count()} comments."
        )

    def _accounts(self) -> None:
        """The demo logins: an admin, an editor (all demo permissions), a viewer."""
        accounts = get_user_model()._default_manager
        if not accounts.filter(username="admin").exists():
            accounts.create_superuser("admin", "admin@example.com", DEMO_PASSWORD)
        demo_perms = Permission.objects.filter(content_type__app_label="myproject")
        editors, _ = Group.objects.get_or_create(name="editors")
        editors.permissions.set(demo_perms)
        viewers, _ = Group.objects.get_or_create(name="viewers")
        viewers.permissions.set(demo_perms.filter(codename__startswith="view_"))
        for name, group in (("editor", editors), ("viewer", viewers)):
            if not accounts.filter(username=name).exists():
                account = accounts.create_user(name, f"{name}@example.com", DEMO_PASSWORD,
                                               is_staff=True)
                account.groups.add(group)
