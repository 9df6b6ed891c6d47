from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    verbose_name = "Realtime change events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from api_graphql.result_cache import set_change_source, set_version_source
        from api_graphql.schema import add_contributor
        from realtime import capture, daphne_wire, signals, triggers
        from realtime.schema import subscription_fields
        from realtime.versions import changes, table

        daphne_wire.enable()
        capture.connect()
        post_migrate.connect(triggers.install_after_migrate, sender=self,
                             dispatch_uid="realtime.triggers.install")
        signals.connect()
        add_contributor(subscription_fields)
        # Every captured write advances its model's version: cached reads stay exact.
        set_version_source(table)
        # A change that cannot touch a cached answer keeps it (api_graphql.footprint).
        set_change_source(changes)
