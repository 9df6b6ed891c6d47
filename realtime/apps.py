from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    verbose_name = "Realtime change events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from api_graphql.schema import add_contributor
        from realtime import capture, daphne_close, signals
        from realtime.schema import subscription_fields

        daphne_close.enable()
        capture.connect()
        signals.connect()
        add_contributor(subscription_fields)
