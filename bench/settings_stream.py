"""bench.settings with ``RESULT_CACHE = "stream"``: versions from the change stream, so
a cache hit of an anonymous query is answered on the event loop (api_graphql.asgi)."""

from bench.settings import *  # noqa: F403
from bench.settings import API_GRAPHQL

API_GRAPHQL = {**API_GRAPHQL, "RESULT_CACHE": "stream"}
