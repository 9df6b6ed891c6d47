"""Short timeouts and small limits, so the protocol tests see them happen quickly."""

from tests.settings import *  # noqa: F403
from tests.settings import API_GRAPHQL

API_GRAPHQL = {
    **API_GRAPHQL,
    "WS_INIT_TIMEOUT": 1,
    "WS_PING_INTERVAL": 1,
    "WS_PONG_TIMEOUT": 2,
    "WS_MAX_MESSAGE_SIZE": 4000,
    "WS_MAX_SUBSCRIPTIONS": 2,
    "WS_ALLOWED_ORIGINS": ["http://allowed.example"],
}
