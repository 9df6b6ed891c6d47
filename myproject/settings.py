"""Settings of the demo project.

The environment is read in ``myproject.environment``; nothing else reads it.
"""

from __future__ import annotations

import os
from pathlib import Path

from myproject.environment import (
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

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "api_graphql",
    "realtime",
    "myproject",
]

MIDDLEWARE = [
    "realtime.metrics.ServerErrorCounter",  # outermost: it must see every 500
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
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

LOGGING = logging_config(os.environ.get("LOG_LEVEL"), os.environ.get("LOG_FORMAT"))
