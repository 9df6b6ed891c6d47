"""The corpus: the test settings plus real apps from PyPI that a project brings.

Run by tests/test_corpus.py in a subprocess (its models need these settings)."""

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS, MIDDLEWARE

INSTALLED_APPS = [
    *INSTALLED_APPS,
    "django.contrib.sites",
    "django.contrib.flatpages",
    "django.contrib.redirects",
    "taggit",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.mfa",
    "guardian",
    "mptt",
    "treebeard",
    "polymorphic",
    "djmoney",
    "phonenumber_field",
    "django_countries",
    "tests.corpus.catalog",
]
MIDDLEWARE = [*MIDDLEWARE, "allauth.account.middleware.AccountMiddleware"]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "guardian.backends.ObjectPermissionBackend",
]
SITE_ID = 1
PHONENUMBER_DEFAULT_REGION = "FR"
