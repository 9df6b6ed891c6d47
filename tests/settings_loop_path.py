"""Cache hits on the event loop: stream-mode versions, and only middleware whose effect
on an anonymous query is fixed (the project's own one declares it)."""

from tests.settings import *  # noqa: F403
from tests.settings import API_GRAPHQL, MIDDLEWARE

API_GRAPHQL = {**API_GRAPHQL, "RESULT_CACHE": "stream"}
MIDDLEWARE = [m.replace("RequestTagMiddleware", "FixedTagMiddleware") for m in MIDDLEWARE]
