"""bench.settings with our result cache off: what ours costs on a cache miss.

The benchmark repeats the same query on unchanged data, the best case for the
result cache (api_graphql.result_cache). Running ours once more without it shows
the cost every first request, and every request after a write, pays.
"""

from bench.settings import *  # noqa: F403
from bench.settings import API_GRAPHQL

API_GRAPHQL = {**API_GRAPHQL, "RESULT_CACHE": False}
