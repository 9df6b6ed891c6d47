from django.urls import path

from api_graphql.views import GraphQLView

app_name = "api_graphql"

urlpatterns = [
    path("graphql", GraphQLView.as_view(), name="graphql"),
    path("graphql/", GraphQLView.as_view()),
]
