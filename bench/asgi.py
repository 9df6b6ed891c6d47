"""ASGI entry point of the benchmark server (run by daphne with bench.settings).

Once ``realtime.routing`` exists this is the demo project's own application
(``myproject.asgi``: HTTP to Django, WebSocket /graphql to the realtime consumer),
so HTTP scenarios measure exactly what users deploy. Before that it is Django's
ASGI app alone, and the WebSocket scenarios report that they cannot run.
"""

import importlib.util
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

if importlib.util.find_spec("realtime.routing") is not None:
    from myproject.asgi import application
else:  # pragma: no cover - only until realtime lands
    from django.core.asgi import get_asgi_application

    application = get_asgi_application()
