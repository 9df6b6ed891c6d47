"""The test settings with bearer tokens that expire within seconds, for a daphne child
that must see a connected socket's token expire (TEST_TOKEN_MAX_AGE, default 3)."""

import os

from tests.settings import *  # noqa: F403
from tests.settings import API_GRAPHQL

API_GRAPHQL = {**API_GRAPHQL, "TOKEN_MAX_AGE": int(os.environ.get("TEST_TOKEN_MAX_AGE", "3"))}
