"""The subscriber fleet: many graphql-transport-ws sockets per process, cheaply.

One worker process holds up to ~2,000 sockets (picows: Cython framing, callbacks,
no task per socket), so on 2 cores the client costs as little as possible. Each
socket sends ``connection_init``, then ``subscribe`` with id "1", and counts as
ready at its first event (op READY). For every later event it records the
arrival on CLOCK_MONOTONIC, which is system-wide on Linux: the writer stamps
``time.monotonic_ns()`` into the row's title (``bench <ns>``), so
latency = arrival - stamp needs no clock sync.

The parent drives a worker through stdin lines and reads one JSON line back:
``count`` (frames so far), ``report`` (samples since the last report), ``close``
(graceful close of every socket), ``exit``. See :class:`Fleet`.

    python -m bench.lib.ws_client --url ws://127.0.0.1:8000/graphql --sockets 2000 \
        --query 'subscription { article_changes { op node { id title } } }'
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

STAMP_PREFIX = "bench "


def stamp_of(event: dict[str, Any]) -> int | None:
    node = event.get("node") or {}
    title = node.get("title") if isinstance(node, dict) else None
    if isinstance(title, str) and title.startswith(STAMP_PREFIX):
        try:
            return int(title[len(STAMP_PREFIX):].split()[0])
        except ValueError:
            return None
    return None


@dataclass
class Tally:
    """What the sockets of one worker saw since the last report."""

    latencies_us: list[int] = field(default_factory=list)
    frames: int = 0
    first_ns: int = 0
    last_ns: int = 0
    first_stamp_ns: int = 0
    errors: list[str] = field(default_factory=list)

    def arrived(self, now: int, stamp: int | None) -> None:
        self.frames += 1
        if not self.first_ns:
            self.first_ns = now
        self.last_ns = now
        if stamp is not None:
            if not self.first_stamp_ns or stamp < self.first_stamp_ns:
                self.first_stamp_ns = stamp
            self.latencies_us.append((now - stamp) // 1000)


async def run_worker(url: str, sockets: int, query: str, concurrency: int) -> None:
    from picows import WSListener, WSMsgType, WSTransport, ws_connect

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    loop = asyncio.get_running_loop()
    tally = Tally()
    init = b'{"type":"connection_init","payload":{}}'
    subscribe = orjson.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}})
    close_codes: Counter[str] = Counter()

    class Subscriber(WSListener):  # type: ignore[misc]
        def __init__(self) -> None:
            self.ready: asyncio.Future[bool] = loop.create_future()
            self.transport: WSTransport | None = None
            self.count = 0
            self.closed = loop.create_future()

        def on_ws_connected(self, transport: WSTransport) -> None:
            self.transport = transport
            transport.send(WSMsgType.TEXT, init)

        def on_ws_frame(self, transport: WSTransport, frame: Any) -> None:
            if frame.msg_type == WSMsgType.TEXT:
                now = time.monotonic_ns()
                data = orjson.loads(frame.get_payload_as_bytes())
                kind = data.get("type")
                if kind == "next":
                    payload = data.get("payload") or {}
                    if payload.get("errors"):
                        tally.errors.append(str(payload["errors"])[:300])
                    event = (payload.get("data") or {}).get("article_changes") or {}
                    if event.get("op") == "READY":
                        if not self.ready.done():
                            self.ready.set_result(True)
                        return
                    self.count += 1
                    tally.arrived(now, stamp_of(event))
                elif kind == "connection_ack":
                    transport.send(WSMsgType.TEXT, subscribe)
                elif kind == "ping":
                    transport.send(WSMsgType.TEXT, b'{"type":"pong"}')
                elif kind in ("error", "complete"):
                    tally.errors.append(str(data)[:300])
                    if not self.ready.done():
                        self.ready.set_result(False)
            elif frame.msg_type == WSMsgType.CLOSE:
                close_codes[str(frame.get_close_code())] += 1
                transport.send_close(frame.get_close_code())
                transport.disconnect()

        def on_ws_disconnected(self, transport: WSTransport) -> None:
            if not self.ready.done():
                self.ready.set_result(False)
            if not self.closed.done():
                self.closed.set_result(True)

    headers = {"Sec-WebSocket-Protocol": "graphql-transport-ws"}
    limit = asyncio.Semaphore(concurrency)
    subscribers: list[Subscriber] = []

    async def open_one() -> None:
        async with limit:
            try:
                _, listener = await ws_connect(Subscriber, url, extra_headers=headers,
                                               websocket_handshake_timeout=60)
            except Exception as error:
                tally.errors.append(f"connect: {error!r}"[:300])
                return
            subscribers.append(listener)
            try:
                await asyncio.wait_for(listener.ready, 120)
            except TimeoutError:
                tally.errors.append("no READY within 120 s")

    started = time.perf_counter()
    await asyncio.gather(*(open_one() for _ in range(sockets)))
    ready = sum(1 for s in subscribers if s.ready.done() and s.ready.result())
    emit({"ready": ready, "failed": sockets - ready, "connect_s": time.perf_counter() - started,
          "errors": tally.errors[:20]})
    tally.errors.clear()

    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        command = (await reader.readline()).decode().strip()
        if command == "count":
            emit({"frames": tally.frames})
        elif command == "report":
            counts = Counter(s.count for s in subscribers)
            emit({"frames": tally.frames, "first_ns": tally.first_ns, "last_ns": tally.last_ns,
                  "first_stamp_ns": tally.first_stamp_ns, "latencies_us": tally.latencies_us,
                  "per_socket": dict(counts),
                  "open": sum(1 for s in subscribers if not s.closed.done()),
                  "close_codes": dict(close_codes), "errors": tally.errors[:20]})
            tally = Tally()
            for s in subscribers:
                s.count = 0
        elif command == "close":
            for s in subscribers:
                if s.transport is not None and not s.closed.done():
                    s.transport.send(WSMsgType.TEXT, b'{"id":"1","type":"complete"}')
                    s.transport.send_close()
            if subscribers:
                await asyncio.wait([s.closed for s in subscribers], timeout=30)
            emit({"closed": sum(1 for s in subscribers if s.closed.done())})
        elif command in ("exit", ""):
            for s in subscribers:
                if s.transport is not None:
                    s.transport.disconnect()
            return


def emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


class Fleet:
    """Several client workers, driven together (``sockets`` split evenly)."""

    PER_PROCESS = 2000

    def __init__(self, python: str, env: dict[str, str], url: str, sockets: int,
                 query: str, concurrency: int = 64) -> None:
        self.procs: list[subprocess.Popen[str]] = []
        count = max(1, -(-sockets // self.PER_PROCESS))
        shares = [sockets // count + (1 if i < sockets % count else 0) for i in range(count)]
        for share in shares:
            self.procs.append(subprocess.Popen(
                [python, "-m", "bench.lib.ws_client", "--url", url, "--sockets", str(share),
                 "--query", query, "--concurrency", str(concurrency)],
                env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))

    def _read_all(self) -> list[dict[str, Any]]:
        replies = []
        for proc in self.procs:
            line = proc.stdout.readline() if proc.stdout else ""
            if not line:
                raise RuntimeError(f"client worker {proc.pid} died (exit {proc.poll()})")
            replies.append(json.loads(line))
        return replies

    def _send(self, command: str) -> None:
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write(command + "\n")
            proc.stdin.flush()

    def wait_ready(self) -> dict[str, Any]:
        replies = self._read_all()
        return {"ready": sum(r["ready"] for r in replies),
                "failed": sum(r["failed"] for r in replies),
                "connect_s": max(r["connect_s"] for r in replies),
                "errors": [e for r in replies for e in r["errors"]][:20]}

    def report(self) -> dict[str, Any]:
        self._send("report")
        replies = self._read_all()
        per_socket: Counter[int] = Counter()
        for r in replies:
            per_socket.update({int(k): v for k, v in r["per_socket"].items()})
        firsts = [r["first_ns"] for r in replies if r["first_ns"]]
        stamps = [r["first_stamp_ns"] for r in replies if r["first_stamp_ns"]]
        return {
            "frames": sum(r["frames"] for r in replies),
            "first_ns": min(firsts) if firsts else 0,
            "last_ns": max(r["last_ns"] for r in replies),
            "first_stamp_ns": min(stamps) if stamps else 0,
            "latencies_us": [x for r in replies for x in r["latencies_us"]],
            "per_socket": dict(per_socket),
            "open": sum(r["open"] for r in replies),
            "close_codes": dict(sum((Counter(r["close_codes"]) for r in replies), Counter())),
            "errors": [e for r in replies for e in r["errors"]][:20],
        }

    def frames(self) -> int:
        self._send("count")
        return sum(r["frames"] for r in self._read_all())

    def drain(self, expected: int, quiet_s: float = 5.0, limit_s: float = 120.0) -> int:
        """Wait until ``expected`` frames arrived, or none arrived for ``quiet_s``."""
        started = last_change = time.monotonic()
        seen = -1
        while True:
            now_frames = self.frames()
            now = time.monotonic()
            if now_frames >= expected:
                return now_frames
            if now_frames != seen:
                seen, last_change = now_frames, now
            if now - last_change > quiet_s or now - started > limit_s:
                return now_frames
            time.sleep(0.1)

    def close(self) -> int:
        self._send("close")
        return sum(r["closed"] for r in self._read_all())

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    self._send_one(proc, "exit")
                    proc.wait(timeout=15)
                except Exception:
                    proc.kill()
                    proc.wait()

    @staticmethod
    def _send_one(proc: subprocess.Popen[str], command: str) -> None:
        assert proc.stdin is not None
        proc.stdin.write(command + "\n")
        proc.stdin.flush()

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--sockets", type=int, required=True)
    parser.add_argument("--query", required=True)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    asyncio.run(run_worker(args.url, args.sockets, args.query, args.concurrency))


if __name__ == "__main__":
    main()
