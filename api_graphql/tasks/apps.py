from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "api_graphql.tasks"
    label = "api_graphql_tasks"
    verbose_name = "Task runs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from api_graphql.schema import add_contributor
        from api_graphql.tasks.schema import task_root_fields

        add_contributor(task_root_fields)
