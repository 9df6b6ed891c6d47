"""A bare ASGI application: the same response bytes as ours, with no work at all.

Run under daphne it shows what the server and the HTTP stack cost by themselves;
every HTTP figure can be read as a fraction of it. The body is read once at import
from ``BENCH_BARE_BODY`` (the orchestrator writes our real Q2 response there).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_path = os.environ.get("BENCH_BARE_BODY")
BODY = Path(_path).read_bytes() if _path else b'{"data":{}}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    # Drain the request body, as any real app must.
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
