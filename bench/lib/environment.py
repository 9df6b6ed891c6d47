"""What a result depends on: versions, machine, load. Saved with every run."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from bench.lib import procs

PACKAGES = ("django", "strawberry-graphql", "strawberry-graphql-django", "graphql-core",
            "channels", "channels-redis", "daphne", "twisted", "psycopg", "psycopg-pool",
            "redis", "orjson", "websockets", "picows", "matplotlib")


def _run(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except Exception as error:  # a missing tool is recorded, not fatal
        return f"unavailable ({error.__class__.__name__})"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def load() -> dict[str, Any]:
    """Load average and PostgreSQL connections in use: the box is shared (others'
    test suites can take the CPU and even every PostgreSQL connection), so every
    scenario records both."""
    one, five, fifteen = os.getloadavg()
    return {"loadavg": [one, five, fifteen], "at": datetime.now(UTC).isoformat(),
            "postgres_connections": postgres_connections()}


def postgres_connections() -> dict[str, int] | None:
    try:
        import psycopg

        with psycopg.connect(procs.bench_env()["DATABASE_URL"], connect_timeout=5) as conn:
            rows = conn.execute("SELECT coalesce(datname, '-'), count(*) FROM pg_stat_activity "
                                "GROUP BY 1").fetchall()
            limit = conn.execute("SHOW max_connections").fetchone()
        return {**{str(name): int(n) for name, n in rows},
                "max_connections": int(limit[0]) if limit else 0}
    except Exception:
        return None


def snapshot() -> dict[str, Any]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    node = procs.NODE_DIR / "node_modules"
    pg_pkg = node / "postgraphile" / "package.json"
    versions["postgraphile"] = json.loads(pg_pkg.read_text())["version"] if pg_pkg.exists() \
        else None
    node_bin = node / ".bin" / "node"
    versions["node"] = _run([str(node_bin), "--version"]) if node_bin.exists() else None
    versions["python"] = platform.python_version()
    versions["wrk"] = _run(["wrk", "--version"]) if shutil.which("wrk") else None
    versions["redis-server"] = _run(["redis-server", "--version"])
    env = procs.bench_env()
    versions["postgresql"] = _run([procs.python(), "-c",
                                   "import psycopg,os;"
                                   "print(psycopg.connect(os.environ['DATABASE_URL'])"
                                   ".execute('show server_version').fetchone()[0])"]) \
        if env.get("DATABASE_URL") else None
    commit = _run(["git", "-C", str(procs.REPO), "rev-parse", "--short", "HEAD"])
    dirty = bool(subprocess.run(["git", "-C", str(procs.REPO), "status", "--porcelain"],
                                capture_output=True, text=True).stdout.strip())
    return {
        "versions": versions,
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "kernel": platform.release(),
                    "memory_gib": round(os.sysconf("SC_PAGE_SIZE")
                                        * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)},
        "git": {"commit": commit, "dirty": dirty},
        "database": env.get("DATABASE_URL"), "redis": env.get("REDIS_URL"),
        "load_start": load(),
    }
