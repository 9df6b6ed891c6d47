"""``/metrics``: this worker's counters in Prometheus' text exposition format.

Counters live in the process that counts them, so scrape every worker (not the
balancer, which would answer for a random one). The figures come from where
the work happens: open sockets from the consumer's heartbeat, subscriptions and
events from the process's hub, GraphQL operations from ``api_graphql.logs``,
and server errors from :class:`ServerErrorCounter` below. No client library is
needed for a handful of numbers.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest, HttpResponse
from django.utils.deprecation import MiddlewareMixin

from api_graphql import logs
from realtime.consumer import heartbeat
from realtime.hub import running_hub

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: HTTP responses with a 5xx status served by this process (any view).
server_errors = {"count": 0}

# hub.counters key -> (metric name, help)
HUB_COUNTERS = {
    "events_published": ("realtime_events_published_total",
                         "Change events committed by this process and handed to the hub."),
    "events_delivered": ("realtime_events_delivered_total",
                         "Change events rendered for this process's subscribers."),
    "payloads_sent": ("realtime_payloads_sent_total",
                      "Event payloads written to sockets (one per subscription and event)."),
    "selection_executions": ("realtime_selection_executions_total",
                             "Reads of changed objects for subscribers: one per group of "
                             "identical subscriptions per batch of events, not one per socket."),
    "resumes": ("realtime_resumes_total", "Subscriptions that resumed from a cursor."),
    "resyncs": ("realtime_resyncs_total",
                "Resumes answered with RESYNC (cursor beyond the retention window)."),
}


class ServerErrorCounter(MiddlewareMixin):
    """Counts 5xx responses. Outermost in MIDDLEWARE, it also sees the 500 that
    Django makes of an unhandled exception. MiddlewareMixin serves both sync and
    async stacks, so it adds no thread hop under ASGI."""

    #: A cache hit answered on the event loop is never a 5xx: nothing to count there.
    graphql_loop_path = True

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if response.status_code >= 500:
            server_errors["count"] += 1
        return response


def _metric(name: str, kind: str, help_text: str,
            samples: Iterable[tuple[str, float]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{labels} {value:g}" for labels, value in samples]
    return lines


def _result_cache() -> list[str]:
    from api_graphql.execution import executor_for
    from api_graphql.schema import get_schema

    results = executor_for(get_schema()).results
    return _metric("graphql_result_cache_total", "counter",
                   "Result cache lookups: hits (revalidated: hits after changes that could not "
                   "change the answer), misses, and misses that waited for another computing it.",
                   [('{outcome="hit"}', results.hits), ('{outcome="miss"}', results.misses),
                    ('{outcome="revalidated"}', results.revalidated),
                    ('{outcome="coalesced"}', results.coalesced)])


def exposition() -> str:
    """Every metric of this process, as the text a scrape reads."""
    hub = running_hub()
    counters = dict(hub.counters) if hub is not None else {}
    lines = _metric("realtime_sockets", "gauge", "Open GraphQL WebSockets.",
                    [("", len(heartbeat.connections))])
    lines += _metric("realtime_subscriptions", "gauge", "Active subscriptions.",
                     [("", hub.subscription_count if hub is not None else 0)])
    for key, (name, help_text) in HUB_COUNTERS.items():
        lines += _metric(name, "counter", help_text, [("", counters.get(key, 0))])
    operations = sorted(logs.operations.items())
    lines += _metric("graphql_operations_total", "counter",
                     "GraphQL requests over HTTP by operation type and outcome.",
                     [(f'{{type="{kind}",outcome="{outcome}"}}', count)
                      for (kind, outcome), count in operations])
    lines += _metric("graphql_errors_total", "counter",
                     "GraphQL requests over HTTP answered with errors.",
                     [("", sum(n for (_, outcome), n in operations if outcome == "error"))])
    lines += _result_cache()
    lines += _metric("graphql_loop_path_answers_total", "counter",
                     "Cached answers served on the event loop, without Django's handler, "
                     "by caller (anonymous, session cookie, bearer token).",
                     [(f'{{caller="{caller}"}}', logs.loop_answers[caller])
                      for caller in ("anonymous", "session", "bearer")])
    lines += _metric("http_server_errors_total", "counter", "HTTP responses with a 5xx status.",
                     [("", server_errors["count"])])
    return "\n".join(lines) + "\n"


async def metrics(request: HttpRequest) -> HttpResponse:
    # Async: runs on the event loop that owns the hub and the sockets it counts.
    return HttpResponse(exposition(), content_type=CONTENT_TYPE)
