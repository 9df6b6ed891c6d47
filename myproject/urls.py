from django.contrib import admin
from django.urls import include, path

from myproject import views
from realtime import health, metrics

urlpatterns = [
    path("admin/", admin.site.urls),
    # For the balancer and the orchestrator (liveness, readiness) and Prometheus.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("live/", views.live, name="live"),
    path("articles/<int:pk>/", views.article_detail, name="article_detail"),
    path("exports/<str:name>", views.export_download, name="export-download"),
    path("", include("api_graphql.urls")),
]
