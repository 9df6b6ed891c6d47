"""Run the benchmark suite: ``bench/run [--quick] [--only a,b,...]``.

A small loop: take an environment snapshot, run each scenario (a)-(j) in turn,
write ``results/<timestamp>/results.json`` (raw samples, versions, environment),
``results.md`` (the tables) and ``latency.png`` (the (c) chart), and copy them to
``results/latest/``. A scenario that cannot run is reported as skipped with its
reason; one that crashes is reported and makes the exit status 1, which is what
CI checks (timings never fail a run).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import shutil
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import report
from bench.lib import environment
from bench.lib.procs import BENCH
from bench.scenarios import Context, Skip

#: Cheap and in-process first, sockets last.
SCENARIOS = {
    "g": "bench.scenarios.g_sql_queries",
    "a": "bench.scenarios.a_inprocess",
    "f": "bench.scenarios.f_coldstart",
    "b": "bench.scenarios.b_http",
    "c": "bench.scenarios.c_latency",
    "d": "bench.scenarios.d_fanout",
    "e": "bench.scenarios.e_memory",
    "h": "bench.scenarios.h_writes",
    "i": "bench.scenarios.i_sequential",
    "j": "bench.scenarios.j_trigger_cost",
    "k": "bench.scenarios.k_invalidation",
}


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, tuple | set):
        return list(value)
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="CI smoke run: small sizes, one repeat, < 3 minutes")
    parser.add_argument("--only", default="", help="comma-separated scenario letters (a-k)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="rounds per scenario (default 3, quick 1)")
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()] or list(SCENARIOS)
    unknown = [s for s in chosen if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenarios {unknown}; choose from {list(SCENARIOS)}")

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out_dir = args.out / (stamp + ("-quick" if args.quick else ""))
    log_dir = out_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    repeats = args.repeats or (1 if args.quick else 3)
    ctx = Context(quick=args.quick, repeats=repeats, out_dir=out_dir, log_dir=log_dir)
    started = time.perf_counter()
    results: dict[str, Any] = {
        "command": "bench/run " + " ".join(sys.argv[1:] if argv is None else argv),
        "quick": args.quick, "repeats": repeats,
        "environment": environment.snapshot(), "scenarios": {}, "notes": ctx.notes,
    }
    crashed = []
    for key in (k for k in SCENARIOS if k in chosen):
        module = importlib.import_module(SCENARIOS[key])
        print(f"== {module.TITLE}", flush=True)
        t0 = time.perf_counter()
        entry: dict[str, Any] = {"title": module.TITLE}
        try:
            entry.update(module.run(ctx))
            entry["status"] = "ok"
        except Skip as reason:
            entry.update(status="skipped", reason=str(reason))
        except Exception as error:
            entry.update(status="crashed", reason=f"{error.__class__.__name__}: {error}",
                         traceback=traceback.format_exc())
            crashed.append(key)
        entry["seconds"] = time.perf_counter() - t0
        entry["load_after"] = environment.load()
        results["scenarios"][key] = entry
        print(f"   {entry['status']} in {entry['seconds']:.0f} s"
              + (f": {entry.get('reason')}" if entry["status"] != "ok" else ""), flush=True)
        if entry["status"] == "crashed":
            print(entry["traceback"], file=sys.stderr, flush=True)
        for t in entry.get("targets", []):
            verdict = {True: "MET ", False: "miss", None: "  - "}[t["met"]]
            print(f"   {verdict} {t['target']}: "
                  f"{report.fmt(t['value'])} (goal {t['goal']})", flush=True)
    c = results["scenarios"].get("c")
    if c and c.get("status") == "ok" and report.chart(c["chart"], out_dir / "latency.png"):
        c["chart_file"] = "latency.png"
    results["seconds"] = time.perf_counter() - started
    results["load_end"] = environment.load()
    (out_dir / "results.json").write_text(json.dumps(results, default=_json_default, indent=1))
    (out_dir / "results.md").write_text(report.markdown(results))
    latest = args.out / "latest"
    shutil.rmtree(latest, ignore_errors=True)
    shutil.copytree(out_dir, latest, ignore=shutil.ignore_patterns("logs"))
    print(f"Results: {out_dir / 'results.md'} (also {latest})", flush=True)
    if crashed:
        print(f"Crashed scenarios: {', '.join(crashed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
