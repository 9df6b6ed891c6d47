"""The demo settings plus the test apps (one model per field kind, every relation shape)."""

from myproject.settings import *  # noqa: F403
from myproject.settings import INSTALLED_APPS, MIDDLEWARE

INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp", "tests.otherapp"]
MIDDLEWARE = [*MIDDLEWARE, "tests.testapp.middleware.RequestTagMiddleware"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
