"""Tasks the task tests start through the API, run by a real worker process."""

from __future__ import annotations

import time
from typing import Any

from celery import shared_task


@shared_task(bind=True)
def count_up(self: Any, steps: int, pause: float = 0.0) -> dict[str, Any]:
    """Report PROGRESS once per step, then succeed."""
    for step in range(1, steps + 1):
        if pause:
            time.sleep(pause)
        self.update_state(state="PROGRESS",
                          meta={"current": step, "total": steps, "message": f"step {step}"})
    return {"steps": steps, "done": True}


@shared_task
def fail_with(message: str) -> None:
    raise ValueError(message)


@shared_task(bind=True, max_retries=5)
def retry_then_succeed(self: Any, times: int) -> int:
    if self.request.retries < times:
        raise self.retry(exc=RuntimeError(f"attempt {self.request.retries + 1}"), countdown=0)
    return int(self.request.retries)


@shared_task(bind=True)
def wait_long(self: Any, seconds: float) -> str:
    """Sleep in small steps (revoked or killed by the tests long before it ends)."""
    self.update_state(state="PROGRESS", meta={"current": 0, "total": 1, "message": "waiting"})
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.05)
    return "woke up"


@shared_task
def sign_in(username: str, api_key: str) -> str:
    return f"{username}:{len(api_key)}"
