"""One module per scenario of issue 6, (a) to (g).

Each module has ``TITLE`` and ``run(ctx) -> dict``. The dict holds ``samples``
(raw data), ``rows`` (the markdown table: a list of dicts) and ``targets`` (one
dict per issue-6 target: name, value, goal, met). A scenario that cannot run
raises :class:`Skip` with the reason; any other exception is a crash, and makes
``bench/run`` exit non-zero (the CI smoke check). Scenarios that need Django run
their measuring part in a child process (``python -m bench.scenarios.<name>``),
so the orchestrator imports no Django and each measurement starts clean.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.lib import procs


class Skip(Exception):
    """The scenario cannot run here; the message says why."""


@dataclass
class Context:
    quick: bool
    repeats: int
    out_dir: Path
    log_dir: Path
    notes: list[str] = field(default_factory=list)

    def child(self, module: str, *args: str, settings: str = "bench.settings",
              timeout: float = 1800) -> dict[str, Any]:
        """Run ``python -m module args`` with the bench environment; its last stdout
        line is the JSON result."""
        argv = [procs.python(), "-m", module, *args]
        out = subprocess.run(argv, env=procs.bench_env(settings), cwd=procs.REPO,
                             capture_output=True, text=True, timeout=timeout)
        log = self.log_dir / f"{module.rsplit('.', 1)[-1]}.log"
        with open(log, "a") as handle:
            handle.write(out.stderr)
        if out.returncode != 0:
            raise RuntimeError(f"{module} failed ({out.returncode}):\n{out.stderr[-4000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])


def target(name: str, value: float, goal: str, met: bool | None, note: str = "") -> dict[str, Any]:
    """One issue-6 target: what was measured, the goal, whether this run meets it."""
    return {"target": name, "value": value, "goal": goal, "met": met, "note": note}


def verdict(met: bool) -> str:
    """For notes that judge a second configuration (e.g. ours without result cache)."""
    return "met" if met else "not met"
