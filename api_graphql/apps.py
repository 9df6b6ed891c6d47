from django.apps import AppConfig


class ApiGraphqlConfig(AppConfig):
    name = "api_graphql"
    verbose_name = "GraphQL API"

    def ready(self) -> None:
        from api_graphql.registry import autodiscover

        autodiscover()
