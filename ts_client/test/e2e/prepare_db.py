"""Give the e2e run a fresh, empty database: drop and create it (PostgreSQL) or
delete the file (SQLite). Migrations and the seed run afterwards, via manage.py."""

import os
import sys
from pathlib import Path
from urllib.parse import urlparse

url = os.environ.get("DATABASE_URL")
if url:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not name.startswith("ts_client_e2e"):
        sys.exit(f"refusing to drop {name!r}: the e2e database must be ts_client_e2e*")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
else:
    path = Path(os.environ["TS_E2E_SQLITE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
