"""The WebSocket protocols against a real daphne: every violation gets its close code,
and the worker lives on."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import websockets

from myproject.models import Tag
from realtime.daphne_wire import immediate_send
from tests.servers import DaphneServer, daphne, graphql_post
from tests.ws_client import GraphQLSocket

pytestmark = pytest.mark.django_db(transaction=True)
TRANSPORT = "graphql-transport-ws"


@pytest.fixture(scope="module")
def server(django_db_setup: Any, django_db_blocker: Any) -> Iterator[DaphneServer]:
    with django_db_blocker.unblock(), daphne(DJANGO_SETTINGS_MODULE="tests.settings_fast") as s:
        yield s


async def raw(server: DaphneServer, protocol: str = TRANSPORT, **options: Any) -> Any:
    return await websockets.connect(server.ws, subprotocols=[protocol], **options)


async def close_code(connection: Any, timeout: float = 10) -> tuple[int | None, str]:
    try:
        while True:
            await asyncio.wait_for(connection.recv(), timeout)
    except websockets.ConnectionClosed as closed:
        return (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, "")


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


@pytest.mark.parametrize(("messages", "code", "reason"), [
    ([{"type": "subscribe", "id": "1", "payload": {"query": "{ me { id } }"}}], 4401,
     "Unauthorized"),
    ([{"type": "connection_init"}, {"type": "connection_init"}], 4429, "Too many"),
    (["not json"], 4400, "not JSON"),
    ([{"type": "connection_init"}, {"type": "shout"}], 4400, "Invalid message type"),
    ([{"type": "connection_init"}, {"type": "subscribe", "id": 7, "payload": {}}], 4400,
     "id must be a string"),
    ([{"type": "connection_init"}, {"type": "subscribe", "id": "1", "payload": {}}], 4400,
     "needs a query"),
    ([{"type": "connection_init", "payload": "token"}], 4400, "payload must be an object"),
])
def test_protocol_violations_get_their_close_codes(server: DaphneServer, messages: list[Any],
                                                   code: int, reason: str) -> None:
    async def scenario() -> tuple[int | None, str]:
        connection = await raw(server)
        for message in messages:
            await connection.send(message if isinstance(message, str) else json.dumps(message))
        return await close_code(connection)

    closed = run(scenario())
    assert closed[0] == code and reason in closed[1]


def test_duplicate_operation_id_closes_with_4409(server: DaphneServer) -> None:
    async def scenario() -> tuple[int | None, str]:
        socket = await GraphQLSocket.open(server.ws)
        query = "subscription { tag_changes { op } }"
        await socket.subscribe("same", query)
        await socket.subscribe("same", query)
        return await socket.closed()

    assert run(scenario())[0] == 4409


def test_binary_frames_and_oversized_messages(server: DaphneServer) -> None:
    async def scenario() -> list[int | None]:
        binary = await raw(server)
        await binary.send(b"\x00\x01")
        big = await raw(server)
        await big.send(json.dumps({"type": "connection_init", "payload": {"x": "y" * 5000}}))
        # 2,500 characters but 7,500 bytes: the limit (4,000) is in bytes.
        wide = await raw(server)
        await wide.send(json.dumps({"type": "connection_init", "payload": {"x": "€" * 2500}},
                                   ensure_ascii=False))
        return [(await close_code(binary))[0], (await close_code(big))[0],
                (await close_code(wide))[0]]

    assert run(scenario()) == [4400, 1009, 1009]


def test_unknown_subprotocol_closes_with_4406(server: DaphneServer) -> None:
    async def scenario() -> int | None:
        connection = await raw(server, protocol="chat")
        return (await close_code(connection))[0]

    assert run(scenario()) == 4406


def test_no_connection_init_in_time_closes_with_4408(server: DaphneServer) -> None:
    async def scenario() -> tuple[int | None, str]:
        return await close_code(await raw(server))

    code, reason = run(scenario())
    assert code == 4408 and "initialisation timeout" in reason


def test_server_pings_and_closes_a_peer_that_never_pongs(server: DaphneServer) -> None:
    async def scenario() -> tuple[list[str], tuple[int | None, str]]:
        connection = await raw(server)
        await connection.send(json.dumps({"type": "connection_init"}))
        seen = []
        try:
            while True:
                seen.append(json.loads(await asyncio.wait_for(connection.recv(), 10))["type"])
        except websockets.ConnectionClosed as closed:
            return seen, (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, "")

    seen, (code, reason) = run(scenario())
    assert seen[0] == "connection_ack" and "ping" in seen
    assert code == 4408 and "Pong timeout" in reason


def test_a_client_that_pongs_stays_connected_and_can_ping(server: DaphneServer) -> None:
    async def scenario() -> dict[str, Any]:
        socket = await GraphQLSocket.open(server.ws)
        with contextlib.suppress(TimeoutError):  # 3.5 s of server pings, each answered
            await asyncio.wait_for(socket.receive(timeout=60), 3.5)
        await socket.send({"type": "ping"})
        answer = await socket.receive()
        await socket.close()
        return answer

    assert run(scenario()) == {"type": "pong"}


def test_queries_and_mutations_run_over_the_socket(server: DaphneServer) -> None:
    async def scenario() -> list[dict[str, Any]]:
        socket = await GraphQLSocket.open(server.ws)
        await socket.subscribe("q", "{ tag_count me { id } }")
        await socket.subscribe("bad", "{ nope }")
        await socket.subscribe("m", "mutation { logout }")
        messages = [await socket.next_for("q"), await socket.next_for("q"),
                    await socket.next_for("bad"), await socket.next_for("m")]
        await socket.close()
        return messages

    query, complete, bad, mutation = run(scenario())
    assert query == {"id": "q", "type": "next",
                     "payload": {"data": {"tag_count": 0, "me": None}}}
    assert complete == {"id": "q", "type": "complete"}
    assert bad["type"] == "error" and "Cannot query field 'nope'" in bad["payload"][0]["message"]
    assert mutation["payload"] == {"data": {"logout": False}}


def test_subscriptions_per_connection_are_limited(server: DaphneServer) -> None:
    async def scenario() -> dict[str, Any]:
        socket = await GraphQLSocket.open(server.ws)
        for op_id in ("1", "2", "3"):
            await socket.subscribe(op_id, "subscription { tag_changes { op } }")
        await socket.event("1", "tag_changes")
        await socket.event("2", "tag_changes")
        refused = await socket.next_for("3")
        await socket.send({"type": "complete", "id": "1"})
        await socket.subscribe("4", "subscription { tag_changes { op } }")
        assert (await socket.event("4", "tag_changes"))["op"] == "READY"
        await socket.close()
        return refused

    refused = run(scenario())
    assert refused["type"] == "error" and "limit 2" in refused["payload"][0]["message"]


def test_subscription_errors_are_operation_errors(server: DaphneServer) -> None:
    async def scenario() -> list[dict[str, Any]]:
        socket = await GraphQLSocket.open(server.ws)
        await socket.subscribe("f", 'subscription { tag_changes(filters: {id: {exact: "x"}}) '
                                    "{ op } }")
        await socket.subscribe("c", 'subscription { tag_changes(after: "soon") { op } }')
        await socket.subscribe("p", "subscription { article_changes(filters: {author: "
                                    '{username: {exact: "x"}}}) { op } }')
        await socket.subscribe("u", "subscription { user_changes { op } }")
        result = [await socket.next_for(i) for i in ("f", "c", "p", "u")]
        await socket.close()
        return result

    bad_filter, bad_cursor, through_hidden, hidden = run(scenario())
    assert "must be an integer" in bad_filter["payload"][0]["message"]
    assert "Invalid cursor" in bad_cursor["payload"][0]["message"]
    # Anonymous may not read users: neither filter through them nor watch them.
    assert through_hidden["payload"][0]["extensions"]["code"] == "FORBIDDEN"
    assert hidden["payload"][0]["extensions"]["code"] == "FORBIDDEN"


def test_legacy_graphql_ws_protocol(server: DaphneServer) -> None:
    async def scenario() -> list[dict[str, Any]]:
        socket = await GraphQLSocket.open(server.ws, protocol="graphql-ws")
        await socket.subscribe("q", "{ tag_count }")
        await socket.subscribe("s", "subscription { tag_changes { op node { name } } }")
        messages = [await socket.next_for("q"), await socket.next_for("q"),
                    await socket.next_for("s")]
        await asyncio.to_thread(lambda: Tag.objects.create(name="legacy"))
        messages.append(await socket.next_for("s"))
        await socket.send({"type": "stop", "id": "s"})
        await socket.send({"type": "connection_terminate"})
        await socket.closed()
        return messages

    query, complete, ready, created = run(scenario())
    assert query == {"id": "q", "type": "data", "payload": {"data": {"tag_count": 0}}}
    assert complete == {"id": "q", "type": "complete"}
    assert ready["payload"]["data"]["tag_changes"]["op"] == "READY"
    assert created["payload"]["data"]["tag_changes"] == {"op": "CREATED",
                                                         "node": {"name": "legacy"}}


@pytest.mark.parametrize(("origin", "accepted"), [
    (None, True), ("http://allowed.example", True), ("http://evil.example", False),
])
def test_browser_origins_are_checked(server: DaphneServer, origin: str | None,
                                     accepted: bool) -> None:
    async def scenario() -> bool:
        try:
            connection = await raw(server, origin=origin) if origin else await raw(server)
        except websockets.InvalidStatus as refused:
            assert refused.response.status_code == 403
            return False
        await connection.close()
        return True

    assert run(scenario()) is accepted


def test_same_host_origin_is_accepted(server: DaphneServer) -> None:
    async def scenario() -> None:
        connection = await raw(server, origin=f"http://127.0.0.1:{server.port}")
        await connection.close()

    run(scenario())


def test_the_worker_survives_all_of_the_above(server: DaphneServer) -> None:
    async def scenario() -> dict[str, Any]:
        socket = await GraphQLSocket.open(server.ws)
        await socket.subscribe("q", "{ __typename }")
        message = await socket.next_for("q")
        await socket.close()
        return message

    assert run(scenario())["payload"] == {"data": {"__typename": "Query"}}
    assert server.process is not None and server.process.poll() is None


def test_a_slow_consumer_is_closed_with_1013_and_can_resume() -> None:
    """A client that stops reading while events pour in: its backlog (sent, not yet
    acknowledged by a pong) passes the limit, and the server closes with 1013."""
    from tests.servers import run_shell

    with daphne(DJANGO_SETTINGS_MODULE="tests.settings_slow_consumer") as slow_server:
        async def scenario() -> tuple[int | None, str, str]:
            socket = await GraphQLSocket.open(slow_server.ws, max_queue=1)
            await socket.subscribe("t", "subscription { tag_changes { op cursor node "
                                        "{ name } } }")
            ready = await socket.event("t", "tag_changes")
            await asyncio.sleep(1.2)  # a ping goes out, and this client will not answer it
            await asyncio.to_thread(run_shell, (
                "from django.db import transaction\nfrom myproject.models import Tag\n"
                "with transaction.atomic():\n"
                "    for n in range(300):\n"
                "        Tag.objects.create(name=f'{n:03d}-' + 'x' * 45)"))
            try:
                while True:
                    await asyncio.wait_for(socket.connection.recv(), 20)
            except websockets.ConnectionClosed as closed:
                frame = closed.rcvd
                return (frame.code if frame else None, frame.reason if frame else "",
                        ready["cursor"])

        code, reason, cursor = run(scenario())
        assert code == 1013 and "Slow consumer" in reason

        async def resume() -> list[str]:
            socket = await GraphQLSocket.open(slow_server.ws)
            await socket.subscribe("t", 'subscription($a: String) { tag_changes(after: $a) '
                                        "{ op } }")
            await socket.send({"type": "complete", "id": "t"})
            await socket.subscribe("r", "subscription($a: String) { tag_changes(after: $a) "
                                        "{ op } }", {"a": cursor})
            ops = []
            while not ops or ops[-1] != "READY":
                ops.append((await socket.event("r", "tag_changes"))["op"])
            await socket.close()
            return ops

        ops = run(resume())
        assert ops == ["CREATED"] * 300 + ["READY"]  # nothing lost: all of it replayed


@pytest.mark.parametrize(("tags", "name_length", "fits"), [
    (1, 1, lambda size: size < 126),
    (40, 45, lambda size: 126 <= size < 1 << 16),
    (1000, 45, lambda size: size >= 1 << 16),
])
def test_frames_of_every_length_form_arrive_whole(server: DaphneServer, tags: int,
                                                  name_length: int, fits: Any) -> None:
    """Payloads under 126 bytes, under 64 KiB and above it take the three header forms
    of RFC 6455 (realtime.daphne_wire writes text frames itself); a strict client
    decodes each whole."""
    expected = [f"{i:04d}" + "x" * name_length for i in range(tags)] if tags > 1 else ["x"]
    Tag.objects.bulk_create(Tag(name=name) for name in expected)
    query = "query($n: Int!) { tag_list(ordering: [{name: ASC}], limit: $n) { id name } }"

    async def scenario() -> str:
        socket = await GraphQLSocket.open(server.ws)
        await socket.subscribe("q", query, {"n": tags})
        while True:
            frame = await asyncio.wait_for(socket.connection.recv(), 10)
            if json.loads(frame)["type"] == "next":
                await socket.close()
                return str(frame)

    frame = run(scenario())
    assert fits(len(frame.encode()))
    assert [t["name"] for t in json.loads(frame)["payload"]["data"]["tag_list"]] == expected


def test_large_frames_to_a_slow_reader_arrive_whole(server: DaphneServer) -> None:
    """A small receive window makes the kernel take part of a frame: the rest, and the
    frames after it, must queue behind it (realtime.daphne_wire sends at once only
    when nothing is queued)."""
    Tag.objects.bulk_create(Tag(name=f"{i:04d}" + "y" * 40) for i in range(1000))
    query = "query($n: Int!) { tag_list(ordering: [{name: ASC}], limit: $n) { id name } }"
    operations = 60  # about 4 MB: more than the kernel buffers for a reader that does not read
    host, port = server.ws.split("//")[1].split("/")[0].split(":")

    async def scenario() -> list[tuple[str, int]]:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((host, int(port)))
        sock.setblocking(False)
        client = await GraphQLSocket.open(server.ws, sock=sock)
        for op in range(operations):
            await client.subscribe(str(op), query, {"n": 1000 - op})
        await asyncio.sleep(2)  # the server writes them all while nobody reads
        answers = []
        while len(answers) < operations:
            message = await client.receive()
            if message["type"] == "next":
                answers.append((message["id"], len(message["payload"]["data"]["tag_list"])))
        await client.close()
        return answers

    answers = run(scenario())
    expected = [(str(op), 1000 - op) for op in range(operations)]
    assert sorted(answers, key=lambda answer: int(answer[0])) == expected


@pytest.mark.parametrize("path", ["/nope", "/graphqlx", "/graphql/more"])
def test_other_paths_are_refused_at_the_handshake(server: DaphneServer, path: str) -> None:
    logged = len(server.log_path.read_bytes())

    async def scenario() -> int:
        url = server.ws.removesuffix("/graphql") + path
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(url, subprotocols=[TRANSPORT])  # type: ignore[list-item]
        return refused.value.response.status_code

    assert run(scenario()) == 403
    assert b"Traceback" not in server.log_path.read_bytes()[logged:]
    assert graphql_post(server.http + "/graphql", "{ __typename }") == {
        "data": {"__typename": "Query"}}


def test_only_daphnes_send_is_called_directly() -> None:
    """Another server's ``send`` keeps the ASGI path (a task per queued frame)."""

    async def send(message: dict[str, Any]) -> None:
        return None

    assert immediate_send(send) is None
    assert immediate_send(functools.partial(send)) is None
