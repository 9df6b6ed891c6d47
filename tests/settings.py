"""The demo settings plus the test apps (one model per field kind, every relation shape)."""

import os
from pathlib import Path

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

# Each test run's Celery broker: its own folder (or its REDIS_PREFIX on Redis), shared
# with the worker processes the task tests start (tests/workers.py).
from myproject.environment import celery_broker  # noqa: E402

CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = celery_broker(
    os.environ.get("REDIS_URL"), os.environ.get("REDIS_PREFIX"),
    Path(os.environ.get("CELERY_BROKER_DIR")
         or BASE_DIR / "tests" / "artifacts" / f"broker{_suffix}"))  # noqa: F405
# Files the tests' tasks write (exports) stay out of the project's media folder.
MEDIA_ROOT = BASE_DIR / "tests" / "artifacts" / f"media{_suffix}"  # noqa: F405
