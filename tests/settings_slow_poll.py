"""A poll too slow to notice anything within a test: what arrives came another way."""

from tests.settings import *  # noqa: F403

REALTIME = {"POLL_INTERVAL": 600}
