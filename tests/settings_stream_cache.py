"""The result cache fed by the change stream instead of the database."""

from tests.settings import *  # noqa: F403
from tests.settings import API_GRAPHQL

API_GRAPHQL = {**API_GRAPHQL, "RESULT_CACHE": "stream"}
