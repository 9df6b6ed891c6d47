"""``manage.py serve``: the project's ASGI application on daphne, shutting down
gracefully on SIGTERM (see ``realtime.server``). Use it instead of ``daphne``
wherever workers are stopped by a supervisor: compose, systemd, scripts/cluster."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string


class Command(BaseCommand):
    help = "Serve ASGI_APPLICATION on daphne; on SIGTERM drain, close sockets with 1001, exit."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--bind", default="127.0.0.1", help="address (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--drain-timeout", type=float, default=30.0,
                            help="seconds to let requests in flight finish (default 30)")
        parser.add_argument("--proxy-headers", action="store_true",
                            help="take the client address from X-Forwarded-For (behind a "
                                 "balancer)")

    def handle(self, *args: Any, **options: Any) -> None:
        from realtime.server import serve  # installs the reactor: only when serving

        application = import_string(settings.ASGI_APPLICATION)
        self.stdout.write(f"Serving {settings.ASGI_APPLICATION} on "
                          f"http://{options['bind']}:{options['port']}", ending="\n")
        self.stdout.flush()
        serve(application, options["bind"], options["port"],
              drain_timeout=options["drain_timeout"], proxy_headers=options["proxy_headers"])
