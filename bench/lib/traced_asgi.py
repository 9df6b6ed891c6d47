"""bench.asgi with tracemalloc on: SIGUSR1 writes the top allocation sites.

Used by ``python -m bench.profiles memory`` to see what an idle subscribed socket
is made of. Tracing slows the server, so no scenario uses it.
"""

from __future__ import annotations

import os
import signal
import tracemalloc
from types import FrameType

tracemalloc.start(12)
_baseline: tracemalloc.Snapshot | None = None


def _package(filename: str) -> str:
    """site-packages/<package>, stdlib <module>, or the project folder (realtime, ...)."""
    if "site-packages/" in filename:
        return filename.split("site-packages/")[-1].split("/")[0]
    parts = filename.rsplit("/", 2)
    folder = parts[-2] if len(parts) > 1 else filename
    return f"stdlib {parts[-1]}" if "/lib/python3" in filename else folder


def _dump(signum: int, frame: FrameType | None) -> None:
    global _baseline
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)])
    path = os.environ.get("BENCH_TRACE_OUT", "/tmp/bench-trace.txt")
    with open(path, "a") as out:
        if _baseline is None:
            out.write("baseline taken\n")
        else:
            stats = snapshot.compare_to(_baseline, "filename")
            by_package: dict[str, int] = {}
            for stat in stats:
                key = _package(stat.traceback[0].filename)
                by_package[key] = by_package.get(key, 0) + stat.size_diff
            total = sum(by_package.values())
            out.write(f"total growth: {total / 1024:.0f} KiB; by package (first frame):\n")
            for key, size in sorted(by_package.items(), key=lambda kv: -kv[1])[:15]:
                out.write(f"  {size / 1024:8.0f} KiB  {key}\n")
            out.write("top growth since baseline, by line:\n")
            for stat in snapshot.compare_to(_baseline, "lineno")[:30]:
                out.write(f"{stat}\n")
            out.write("by traceback (top 8):\n")
            for stat in snapshot.compare_to(_baseline, "traceback")[:8]:
                out.write(f"{stat.size_diff / 1024:.0f} KiB in {stat.count_diff} blocks\n")
                out.write("\n".join("    " + line for line in stat.traceback.format()[-12:]))
                out.write("\n")
        out.write("=====\n")
    _baseline = snapshot


signal.signal(signal.SIGUSR1, _dump)

from bench.asgi import application  # noqa: E402

__all__ = ["application"]
