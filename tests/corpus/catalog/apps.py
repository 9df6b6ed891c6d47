from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """The corpus's own app: models built the way projects use the third-party fields
    and base classes (trees, polymorphism, money, phones, countries, tags, generic
    relations with every key type), since those libraries ship abstract models."""

    name = "tests.corpus.catalog"
    label = "catalog"
    default_auto_field = "django.db.models.BigAutoField"
