"""The ASGI entry point: GraphQL over HTTP and WebSocket beside the unchanged admin.

HTTP goes to Django (``/graphql`` is a Django view, so the project's middleware
applies); WebSocket ``/graphql`` goes to the realtime consumer.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myproject.settings")
django_application = get_asgi_application()

from realtime.routing import graphql_application  # noqa: E402

application = graphql_application(django_application)
