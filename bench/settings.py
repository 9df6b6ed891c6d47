"""Django settings for every Python contender of the benchmark.

The demo project's settings, plus two things only the benchmark needs:

* the hand-written strawberry-django app and the plain JSON views are mounted
  beside ours (``bench.urls``), so all three read the same models through the same
  middleware and the same PostgreSQL pool;
* every demo model is publicly readable (``ANONYMOUS_READ``). The baselines check
  no permissions, so without this our server would answer anonymous requests with
  ``author: null`` and less work; with it every contender returns the same bytes.
"""

from myproject.settings import *  # noqa: F403
from myproject.settings import API_GRAPHQL, INSTALLED_APPS

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
