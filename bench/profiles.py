"""Profiles of our server under the benchmark's loads, for whoever optimises it.

    .venv/bin/python -m bench.profiles http      # py-spy on ours while wrk sends Q2
    .venv/bin/python -m bench.profiles inprocess # py-spy on a loop of in-process Q2
    .venv/bin/python -m bench.profiles fanout    # py-spy on ours during a (d) burst
    .venv/bin/python -m bench.profiles imports   # -X importtime of django.setup()
    .venv/bin/python -m bench.profiles memory    # tracemalloc: what 1,000 idle sockets hold

(run through ``bench/run``'s environment: DATABASE_URL, REDIS_URL, PYTHONPATH.)
Only threads holding the GIL are sampled (``--gil``): the shares are CPU, not
waiting. Each writes the raw collapsed stacks to ``bench/results/profiles/`` and prints the
functions with the most samples, self and inclusive, so a regression or a lever
shows up as text, not only as a flame graph.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import orjson

from bench.lib import procs, realtime
from bench.lib.http_load import Request, run_wrk
from bench.lib.ws_client import Fleet
from bench.queries import OURS

OUT = procs.BENCH / "results" / "profiles"


def pyspy() -> str:
    found = shutil.which("py-spy") or str(procs.VENV_BIN / "py-spy")
    return found


def record(pid: int, seconds: float, name: str) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.txt"
    subprocess.run([pyspy(), "record", "--pid", str(pid), "--duration", str(int(seconds)),
                    "--rate", "200", "--gil", "--format", "raw", "--output", str(path),
                    "--nonblocking"],
                   check=True, capture_output=True)
    return path


def top(path: Path, count: int = 25) -> str:
    """Self and inclusive sample shares per function from py-spy's collapsed stacks."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack:
            continue
        samples = int(n)
        total += samples
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    lines = [f"{total} samples in {path}", "", "self %  function"]
    lines += [f"{100 * n / total:5.1f}  {f}" for f, n in own.most_common(count)]
    lines += ["", "incl %  function"]
    lines += [f"{100 * n / total:5.1f}  {f}" for f, n in inclusive.most_common(count)]
    return "\n".join(lines)


def http(seconds: float) -> str:
    log_dir = OUT / "logs"
    with procs.daphne("profile-ours", "bench.asgi:application", log_dir,
                      extra_args=["-v", "0"]) as server:
        server.start()
        server.wait_port()
        request = Request("/graphql", orjson.dumps({"query": OURS["Q2"]}))
        run_wrk(server, request, 16, 2)
        load = threading.Thread(target=run_wrk, args=(server, request, 16, seconds + 2))
        load.start()
        time.sleep(1)
        path = record(server.pid, seconds, "http-q2")
        load.join()
    return top(path)


def inprocess(seconds: float) -> str:
    code = (
        "import django, time; django.setup()\n"
        "from django.contrib.auth.models import AnonymousUser\n"
        "from api_graphql.context import RequestContext\n"
        "from api_graphql.execution import executor_for\n"
        "from api_graphql.schema import get_schema\n"
        "from bench.queries import OURS\n"
        "b = get_schema(); e = executor_for(b); end = time.monotonic() + %f\n"
        "while time.monotonic() < end:\n"
        "    e.execute(RequestContext(b, AnonymousUser(), None, 'http'), OURS['Q2'])\n"
    ) % (seconds + 3)
    proc = subprocess.Popen([procs.python(), "-c", code], env=procs.bench_env(), cwd=procs.REPO)
    try:
        time.sleep(2)
        path = record(proc.pid, seconds, "inprocess-q2")
    finally:
        proc.wait(timeout=seconds + 30)
    return top(path)


def fanout(seconds: float) -> str:
    log_dir = OUT / "logs"
    with realtime.ours(log_dir, name="profile-fanout") as server:
        server.start()
        server.wait_port()
        with Fleet(procs.python(), procs.bench_env(), realtime.ws_url(server), 1000,
                   realtime.SUBSCRIPTION) as fleet:
            fleet.wait_ready()
            writer = threading.Thread(target=realtime.write, args=("save", 60, 0.0, 10))
            writer.start()
            path = record(server.pid, seconds, "fanout-1000")
            writer.join()
            fleet.drain(600 * 1000, quiet_s=3)
    return top(path)


def imports() -> str:
    out = subprocess.run([procs.python(), "-X", "importtime", "-c",
                          "import django; django.setup()"],
                         env=procs.bench_env("myproject.settings"), cwd=procs.REPO,
                         capture_output=True, text=True, check=True)
    rows = []
    for line in out.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if match:
            rows.append((int(match.group(2)), len(match.group(3)), match.group(4)))
    rows.sort(reverse=True)
    top_level = [r for r in rows if r[1] <= 2][:25]
    return "cumulative ms  package (top-level imports of django.setup())\n" + "\n".join(
        f"{us / 1000:10.1f}  {name}" for us, _, name in top_level)


def memory(sockets: int = 1000) -> str:
    import os
    import signal

    log_dir = OUT / "logs"
    out = OUT / "memory.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    with procs.daphne("profile-memory", "bench.lib.traced_asgi:application", log_dir,
                      extra_args=["-v", "0"], BENCH_TRACE_OUT=str(out)) as server:
        server.start()
        server.wait_port()
        with Fleet(procs.python(), procs.bench_env(), realtime.ws_url(server), 1,
                   realtime.SUBSCRIPTION) as warm:
            warm.wait_ready()
        time.sleep(1)
        os.kill(server.pid, signal.SIGUSR1)
        with Fleet(procs.python(), procs.bench_env(), realtime.ws_url(server), sockets,
                   realtime.SUBSCRIPTION) as fleet:
            fleet.wait_ready()
            time.sleep(2)
            os.kill(server.pid, signal.SIGUSR1)
            deadline = time.monotonic() + 400  # a traced snapshot takes minutes
            while out.read_text().count("=====") < 2 and time.monotonic() < deadline:
                time.sleep(0.5)
    return out.read_text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["http", "inprocess", "fanout", "imports", "memory"])
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    if args.what == "imports":
        print(imports())
    elif args.what == "memory":
        print(memory())
    else:
        print({"http": http, "inprocess": inprocess, "fanout": fanout}[args.what](args.seconds))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
