"""Health, metrics and logs: in-process through Django, and in a real `manage.py serve`."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client

from api_graphql.logs import JsonFormatter
from realtime import metrics
from tests.servers import ROOT, child_environment, free_port, graphql_post, run_shell
from tests.ws_client import GraphQLSocket


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode()


@contextmanager
def serve(**env: str) -> Iterator[str]:
    """`manage.py serve` on a free port, on the test database unless told otherwise."""
    port = free_port()
    log = (ROOT / "tests" / "artifacts" / f"serve-{port}.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(port)], cwd=ROOT,
            env=child_environment(**env), stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(url + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, f"serve exited: see {log}"
            assert time.monotonic() < deadline, f"serve did not answer: see {log}"
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def scrape(url: str) -> dict[str, float]:
    status, text = get(url + "/metrics")
    assert status == 200
    return {name: float(value) for name, value in
            re.findall(r"^(\w+(?:\{[^}]*\})?) (\S+)$", text, re.MULTILINE)}


@pytest.mark.django_db
def test_health_endpoints_in_process() -> None:
    client = Client()
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "channel_layer": "ok"}}


@pytest.mark.django_db
def test_metrics_are_prometheus_text() -> None:
    client = Client()
    client.post("/graphql", {"query": "query Ping { __typename }"},
                content_type="application/json")
    client.post("/graphql", {"query": "{ nope }"}, content_type="application/json")
    response = client.get("/metrics")
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.content.decode()
    for name, kind in [("realtime_sockets", "gauge"), ("realtime_subscriptions", "gauge"),
                       ("realtime_events_published_total", "counter"),
                       ("realtime_events_delivered_total", "counter"),
                       ("realtime_resumes_total", "counter"), ("realtime_resyncs_total", "counter"),
                       ("graphql_errors_total", "counter"),
                       ("http_server_errors_total", "counter")]:
        assert f"# TYPE {name} {kind}\n" in text
    assert re.search(r'^graphql_operations_total\{type="query",outcome="ok"\} [1-9]', text, re.M)
    assert re.search(r'^graphql_operations_total\{type="invalid",outcome="error"\} [1-9]',
                     text, re.M)
    assert re.search(r"^graphql_errors_total [1-9]", text, re.M)


def test_server_errors_are_counted() -> None:
    before = metrics.server_errors["count"]
    for status in (200, 404, 500, 503):
        metrics.ServerErrorCounter(lambda request, s=status: HttpResponse(status=s))(HttpRequest())
    assert metrics.server_errors["count"] == before + 2


def test_json_log_lines() -> None:
    record = logging.LogRecord("api_graphql.operations", logging.INFO, __file__, 1,
                               "query %s", ("Q",), None)
    record.operation_name = "Q"
    record.duration_ms = 1.5
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "query Q" and line["level"] == "INFO"
    assert (line["operation_name"], line["duration_ms"]) == ("Q", 1.5)
    assert line["logger"] == "api_graphql.operations" and line["time"].endswith("+00:00")
    try:
        raise ValueError("boom")
    except ValueError:
        failed = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    assert "ValueError: boom" in json.loads(JsonFormatter().format(failed))["exception"]


def test_readyz_is_503_when_the_database_and_redis_are_down() -> None:
    with serve(DATABASE_URL="postgres://postgres@127.0.0.1:1/none?pool_max_size=0",
               REDIS_URL="redis://127.0.0.1:1/0") as url:
        assert get(url + "/healthz") == (200, '{"status": "ok"}')
        status, body = get(url + "/readyz")
        assert status == 503
        checks = json.loads(body)["checks"]
        assert checks["database"] != "ok" and checks["channel_layer"] != "ok", checks


@pytest.mark.django_db(transaction=True)
def test_metrics_of_a_serving_worker() -> None:
    subscription = "subscription($a: String) { tag_changes(after: $a) { op cursor } }"
    with serve() as url:
        async def scenario() -> dict[str, float]:
            socket = await GraphQLSocket.open(url.replace("http", "ws") + "/graphql")
            await socket.subscribe("t", subscription)
            ready = await socket.event("t", "tag_changes")
            during = await asyncio.to_thread(scrape, url)
            assert (during["realtime_sockets"], during["realtime_subscriptions"]) == (1, 1)
            await asyncio.to_thread(
                run_shell, "from myproject.models import Tag\nTag.objects.create(name='counted')")
            assert (await socket.event("t", "tag_changes"))["op"] == "CREATED"
            await socket.close()
            # A resume from before the change: replayed, and counted.
            resumed = await GraphQLSocket.open(url.replace("http", "ws") + "/graphql")
            await resumed.subscribe("r", subscription, {"a": ready["cursor"]})
            assert (await resumed.event("r", "tag_changes"))["op"] == "CREATED"
            await resumed.close()
            return await asyncio.to_thread(scrape, url)

        graphql_post(url + "/graphql", "query Hello { __typename }")
        after = asyncio.run(scenario())
    assert after["realtime_events_delivered_total"] >= 1
    assert after["realtime_payloads_sent_total"] >= 1
    assert after["realtime_resumes_total"] == 1
    assert after['graphql_operations_total{type="query",outcome="ok"}'] == 1
