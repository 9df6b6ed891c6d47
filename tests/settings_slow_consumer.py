"""A small backlog limit and a patient pong timeout: a slow consumer hits the limit."""

from tests.settings import *  # noqa: F403
from tests.settings import API_GRAPHQL

API_GRAPHQL = {
    **API_GRAPHQL,
    "WS_PING_INTERVAL": 0.5,
    "WS_PONG_TIMEOUT": 120,
    "WS_UNACKNOWLEDGED_LIMIT": 20_000,
}
