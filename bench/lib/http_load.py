"""Closed-loop HTTP load with wrk, and the server CPU it cost.

wrk keeps ``connections`` requests in flight for ``duration`` seconds and, through
a Lua ``done`` hook, prints its latency percentiles as one JSON line, so no text
table is parsed. wrk is closed-loop: under overload its percentiles understate
the tail (coordinated omission); read p99 together with req/s.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.lib.procs import Server

MARK = "BENCH_JSON "

DONE_HOOK = r"""
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
               + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    '%s{"requests": %d, "duration_us": %d, "errors": %d, "status_errors": %d, '
    .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    "__MARK__", summary.requests, summary.duration, errors, summary.errors.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
"""


@dataclass
class Request:
    path: str
    body: bytes | None = None  # None: GET
    headers: dict[str, str] = field(default_factory=dict)

    def lua(self) -> str:
        lines = [f'wrk.headers["{name}"] = "{value}"' for name, value in self.headers.items()]
        if self.body is not None:
            text = self.body.decode()
            assert "]==]" not in text
            lines += ['wrk.method = "POST"', f"wrk.body = [==[{text}]==]",
                      'wrk.headers["Content-Type"] = "application/json"']
        return "\n".join(lines) + DONE_HOOK.replace("__MARK__", MARK)


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(server: Server, request: Request, connections: int, duration: float,
            threads: int = 1, timeout_s: int = 30) -> dict[str, Any]:
    """One wrk run against ``server``; adds server CPU seconds per request."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(request.lua())
    cpu_before = server.cpu_seconds()
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s",
            f"--timeout={timeout_s}s", "-s", script.name, server.url(request.path)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 120)
    cpu = server.cpu_seconds() - cpu_before
    Path(script.name).unlink(missing_ok=True)
    server.check_alive()
    line = next((x for x in out.stdout.splitlines() if x.startswith(MARK)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out.stdout}\n{out.stderr}")
    result: dict[str, Any] = json.loads(line[len(MARK):])
    seconds = result["duration_us"] / 1e6
    ok = result["requests"] - result["status_errors"]
    result.update({
        "connections": connections,
        "rps": ok / seconds if seconds else 0.0,
        "server_cpu_s": cpu,
        "server_cpu_ms_per_req": 1000 * cpu / ok if ok else float("nan"),
    })
    return result
