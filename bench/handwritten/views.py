"""The hand-written schema over HTTP: strawberry's async Django view.

``AsyncGraphQLView`` is what strawberry documents for ASGI deployments (daphne,
uvicorn); strawberry-django runs each ORM resolver in a worker thread from there.
``csrf_exempt`` as in strawberry's documentation (ours is exempt too and checks
CSRF itself for cookie-authenticated mutations only).
"""

from django.views.decorators.csrf import csrf_exempt
from strawberry.django.views import AsyncGraphQLView

from bench.handwritten.schema import schema

handwritten_view = csrf_exempt(AsyncGraphQLView.as_view(schema=schema, graphql_ide=None))
