"""The demo settings on the e2e run's own database (never the developer's db.sqlite3).

PostgreSQL: the harness points DATABASE_URL at its own database (ts_client_e2e), so
it never touches pytest's. SQLite: TS_E2E_SQLITE names the file. With Redis, the
channel layer gets its own prefix so a concurrent pytest run shares nothing.
"""

import os

from myproject.settings import *  # noqa: F403
from myproject.settings import CHANNEL_LAYERS, DATABASES

# Uploaded files go beside the e2e database, never into the repository's media/.
MEDIA_ROOT = os.path.join(os.path.dirname(os.environ["TS_E2E_SQLITE"]), "media")
if not os.environ.get("DATABASE_URL"):
    DATABASES["default"]["NAME"] = os.environ["TS_E2E_SQLITE"]
if "CONFIG" in CHANNEL_LAYERS["default"]:
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = "ts_client_e2e" + os.environ.get("TEST_DB_SUFFIX", "")

# A resume that would replay more than this answers RESYNC: small, so the RESYNC
# path is reachable from a test (the restart test misses fewer events than this).
REALTIME = {"MAX_REPLAY": 20}

# The run's Celery broker, shared by daphne and the worker the task tests start:
# its own Redis key prefix, or a folder beside the e2e database.
from pathlib import Path  # noqa: E402

from myproject.environment import celery_broker  # noqa: E402

CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = celery_broker(
    os.environ.get("REDIS_URL"), "ts_client_e2e" + os.environ.get("TEST_DB_SUFFIX", ""),
    Path(os.environ["TS_E2E_SQLITE"]).parent / "broker")
MEDIA_ROOT = Path(os.environ["TS_E2E_SQLITE"]).parent / "media"
