"""Django settings for every Python contender of the benchmark.

The demo project's settings, plus two things only the benchmark needs:

* the hand-written strawberry-django app and the plain JSON views are mounted
  beside ours (``bench.urls``), so all three read the same models through the same
  middleware and the same PostgreSQL pool;
* every Python contender uses Django's PostgreSQL pool (8 connections), whatever
  the demo project's default: issue 6 fixes the plain view at "with the pool", and
  contenders that share a server configuration differ only in their code;
* every demo model is publicly readable (``ANONYMOUS_READ``). The baselines check
  no permissions, so without this our server would answer anonymous requests with
  ``author: null`` and less work; with it every contender returns the same bytes.
"""

import os
from urllib.parse import parse_qs, urlencode, urlparse

from myproject.environment import database_from_url
from myproject.settings import *  # noqa: F403
from myproject.settings import API_GRAPHQL, BASE_DIR, INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "strawberry_django"]
ROOT_URLCONF = "bench.urls"
API_GRAPHQL = {**API_GRAPHQL, "ANONYMOUS_READ": ["myproject.*"]}
# The benchmark must not measure GraphiQL, debug toolbars or SQL logging.
DEBUG = False
# strawberry-django caps pages at 100 by default; ours at 1,000 (Q3 reads 1,000).
STRAWBERRY_DJANGO = {"PAGINATION_MAX_LIMIT": 1000}
# Redis Pub/Sub channels are global to the server, whatever the database number:
# a prefix of our own keeps benchmark events away from anything else on that Redis.
CHANNEL_LAYERS = {
    "default": {
        **CHANNEL_LAYERS["default"],  # noqa: F405
        **({"CONFIG": {**CHANNEL_LAYERS["default"]["CONFIG"], "prefix": "bench"}}  # noqa: F405
           if "CONFIG" in CHANNEL_LAYERS["default"] else {}),  # noqa: F405
    }
}


def _with_pool(url: str | None) -> str | None:
    """The URL with ``pool_max_size=8`` unless it already chooses a size."""
    if not url or not url.startswith("postgres"):
        return url
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    query.setdefault("pool_max_size", ["8"])
    return parsed._replace(query=urlencode(query, doseq=True)).geturl()


DATABASES = {
    "default": database_from_url(_with_pool(os.environ.get("DATABASE_URL")),
                                 BASE_DIR / "db.sqlite3"),
}
