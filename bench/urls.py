"""URLs of the benchmark server: the demo project's, plus the baselines.

``/graphql``           ours (api_graphql), exactly as the demo project serves it
``/hand/graphql``      the hand-written strawberry-django schema (bench.handwritten)
``/plain/q1|q2|q3``    plain Django JSON views (bench.plain)
"""

from django.urls import include, path

from bench.handwritten.views import handwritten_view
from bench.plain import views as plain

urlpatterns = [
    path("hand/graphql", handwritten_view),
    path("plain/q1", plain.q1_view),
    path("plain/q2", plain.q2_view),
    path("plain/q3", plain.q3_view),
    path("", include("myproject.urls")),
]
