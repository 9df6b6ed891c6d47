"""Real Celery worker processes for the task tests: the demo's app, the test database,
the test run's broker (Redis under REDIS_PREFIX, or the filesystem folder)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from tests.servers import ROOT, child_environment

_started = 0


def purge_broker() -> None:
    """Drop messages a previous run left in this run's broker."""
    from myproject.celery import app

    app.control.purge()


class CeleryWorker:
    def __init__(self, **env: str) -> None:
        global _started
        _started += 1
        self.name = f"test{os.getpid()}-{_started}@localhost"
        self.env = child_environment(**env)
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = ROOT / "tests" / "artifacts" / f"worker-{os.getpid()}-{_started}.log"

    def start(self, timeout: float = 60) -> CeleryWorker:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "myproject", "worker", "--loglevel=INFO",
             "--pool=prefork", "--concurrency=1", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-n", self.name],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited: see {self.log_path}")
            if b" ready." in self.log_path.read_bytes():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the worker was not ready within {timeout}s: see {self.log_path}")

    def pool_children(self) -> list[int]:
        """The pids of the prefork pool's processes (the ones that run tasks)."""
        assert self.process is not None
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                children.append(int(stat.parent.name))
        return children

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # SIGQUIT: a cold shutdown, without waiting for a running task.
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


@contextmanager
def celery_worker(**env: str) -> Iterator[CeleryWorker]:
    assert not getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False)
    purge_broker()
    worker = CeleryWorker(**env).start()
    try:
        yield worker
    finally:
        worker.stop()
