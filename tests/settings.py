"""The demo settings plus the test apps (one model per field kind, every relation shape)."""

import os

from myproject.settings import *  # noqa: F403
from myproject.settings import INSTALLED_APPS, MIDDLEWARE

INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp", "tests.otherapp"]
MIDDLEWARE = [*MIDDLEWARE, "tests.testapp.middleware.RequestTagMiddleware"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Parallel test runs on one machine (TEST_DB_SUFFIX) each get their own database.
_suffix = os.environ.get("TEST_DB_SUFFIX", "")
if _suffix:
    _default = DATABASES["default"]  # noqa: F405
    if _default["ENGINE"].endswith("sqlite3"):
        _default["TEST"] = {"NAME": str(BASE_DIR / f"test_db{_suffix}.sqlite3")}  # noqa: F405
    else:
        _default["TEST"] = {"NAME": f"test_{_default['NAME']}{_suffix}"}
