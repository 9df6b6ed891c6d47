"""Settings of the demo project.

The environment is read in ``myproject.environment``; nothing else reads it.
"""

from __future__ import annotations

import os
from pathlib import Path

from corsheaders.defaults import default_headers

from myproject.environment import (
    celery_broker,
    channel_layer_from_url,
    database_from_url,
    env_bool,
    env_list,
    logging_config,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or "insecure-demo-key-change-me-" + "x" * 24
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# A front end on another origin (a Vite dev server, say): django-cors-headers answers its
# preflights and lets it send the session cookie; CSRF_TRUSTED_ORIGINS and
# GRAPHQL_WS_ALLOWED_ORIGINS name the same origins (docs/OPERATIONS.md, "Other origins").
# Off unless configured, so same-origin deployments keep the loop path's middleware set.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])
CORS_ALLOW_CREDENTIALS = True
CORS_ALLOW_HEADERS = (*default_headers, "x-consistency-cursor")
CORS_EXPOSE_HEADERS = ["X-Consistency-Cursor"]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "corsheaders",
    "api_graphql",
    "api_graphql.tasks",
    "realtime",
    "myproject",
]

MIDDLEWARE = [
    "realtime.metrics.ServerErrorCounter",  # outermost: it must see every 500
    "django.middleware.security.SecurityMiddleware",
    *(["corsheaders.middleware.CorsMiddleware"] if CORS_ALLOWED_ORIGINS else []),
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Django views accept the API's bearer tokens too (ts_client's client.fetch).
    "api_graphql.middleware.BearerTokenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "myproject.urls"
ASGI_APPLICATION = "myproject.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(os.environ.get("DATABASE_URL"), BASE_DIR / "db.sqlite3"),
}
CHANNEL_LAYERS = {"default": channel_layer_from_url(os.environ.get("REDIS_URL"),
                                                   os.environ.get("REDIS_PREFIX"))}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = BASE_DIR / "media"

API_GRAPHQL = {
    # Browser origins allowed to open the GraphQL WebSocket; clients that send no
    # Origin header (Node, mobile) are governed by ALLOW_NO_ORIGIN.
    "WS_ALLOWED_ORIGINS": env_list("GRAPHQL_WS_ALLOWED_ORIGINS", []),
    "WS_ALLOW_NO_ORIGIN": env_bool("GRAPHQL_WS_ALLOW_NO_ORIGIN", True),
}

# Celery (myproject/celery.py): the broker is Redis with REDIS_URL, else a folder
# (CELERY_BROKER_DIR). Every state goes to the run's TaskRun row, which the
# realtime capture publishes; acks_late redelivers a task whose worker died.
CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = celery_broker(
    os.environ.get("REDIS_URL"), os.environ.get("REDIS_PREFIX"),
    Path(os.environ.get("CELERY_BROKER_DIR") or BASE_DIR / "var" / "broker"))
CELERY_RESULT_BACKEND = "api_graphql.tasks.backend:TaskRunBackend"
CELERY_TASK_TRACK_STARTED = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL") or "demo@example.com"

LOGGING = logging_config(os.environ.get("LOG_LEVEL"), os.environ.get("LOG_FORMAT"))
