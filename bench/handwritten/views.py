"""The hand-written schema over HTTP: strawberry's async Django view.

``AsyncGraphQLView`` is what strawberry documents for ASGI deployments (daphne,
uvicorn); strawberry-django runs each ORM resolver in a worker thread from there.
"""

from strawberry.django.views import AsyncGraphQLView

from bench.handwritten.schema import schema

handwritten_view = AsyncGraphQLView.as_view(schema=schema, graphql_ide=None)
