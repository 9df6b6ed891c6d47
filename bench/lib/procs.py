"""Starting and watching the servers under test.

Every server is a child process with its own log file under the results folder.
CPU time and RSS are read from /proc, so a scenario can report server
CPU-seconds per operation and memory without touching the server's code.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
VENV_BIN = REPO / ".venv" / "bin"
NODE_DIR = BENCH / "node"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def python() -> str:
    venv = VENV_BIN / "python"
    return str(venv) if venv.exists() else sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_env(settings: str = "bench.settings", **extra: str) -> dict[str, str]:
    """The environment of every Python process of the benchmark."""
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": settings,
        "PYTHONPATH": str(REPO),
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "ERROR",
    })
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
    env.update(extra)
    return env


class Server:
    """One server process under test, listening on 127.0.0.1:port."""

    def __init__(self, name: str, argv: Sequence[str], port: int, env: dict[str, str],
                 log_dir: Path, cwd: Path = REPO) -> None:
        self.name = name
        self.argv = list(argv)
        self.port = port
        self.env = env
        self.cwd = cwd
        self.log_path = log_dir / f"server-{name}-{port}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> Server:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=self.cwd, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def wait_port(self, timeout: float = 60.0) -> float:
        """Seconds from start until the port accepts connections."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return time.perf_counter() - self.started_at
            except OSError:
                time.sleep(0.005)
        raise TimeoutError(f"{self.name} did not listen on {self.port} in {timeout}s; "
                           f"see {self.log_path}")

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{tail}")

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process (all its threads)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # Only our own process group: the server and anything it started.
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def http(url: str, body: bytes | None = None, timeout: float = 30.0,
         content_type: str = "application/json",
         headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """One request with the standard library (setup and checks, never load)."""
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET",
                                     headers={"Content-Type": content_type, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def daphne(name: str, app: str, log_dir: Path, settings: str = "bench.settings",
           extra_args: Sequence[str] = (), **env: str) -> Server:
    """Our usual deployment: one daphne process serving ``app``."""
    port = free_port()
    argv = [str(VENV_BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), *extra_args, app]
    return Server(name, argv, port, bench_env(settings, **env), log_dir)


def postgraphile(log_dir: Path) -> Server:
    port = free_port()
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": bench_env()["DATABASE_URL"],
        "PORT": str(port),
        "NODE_ENV": "production",
        "GRAPHILE_ENV": "production",
        "PATH": f"{NODE_DIR / 'node_modules' / '.bin'}:{env.get('PATH', '')}",
    })
    argv = [str(NODE_DIR / "node_modules" / ".bin" / "postgraphile"), "-C",
            str(NODE_DIR / "graphile.config.mjs")]
    return Server("postgraphile", argv, port, env, log_dir, cwd=NODE_DIR)


def postgraphile_available() -> bool:
    return (NODE_DIR / "node_modules" / ".bin" / "postgraphile").exists()


def bearer_token() -> str:
    """A bearer token for the bench database's first user (no permissions of its own:
    the bench's ANONYMOUS_READ lets it read what every contender reads)."""
    code = ("from django.contrib.auth import get_user_model\n"
            "from api_graphql import tokens\n"
            "print(tokens.issue(get_user_model().objects.order_by('pk').first())[0])")
    out = subprocess.run([python(), "manage.py", "shell", "-v0", "-c", code], cwd=REPO,
                         env=bench_env(), capture_output=True, text=True, timeout=120, check=True)
    return out.stdout.strip().splitlines()[-1]
