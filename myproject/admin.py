from django.contrib import admin

from myproject.models import Article, Comment, Profile, Tag, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["username", "email", "is_active", "created_at"]
    search_fields = ["username", "email"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "author", "published", "created_at"]
    list_filter = ["published"]
    search_fields = ["title"]
    raw_id_fields = ["author"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name"]
    raw_id_fields = ["articles"]


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["article", "author", "status", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["article", "author"]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "role"]
    raw_id_fields = ["user"]
