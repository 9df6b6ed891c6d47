from django.apps import AppConfig


class OtherappConfig(AppConfig):
    name = "tests.otherapp"
    label = "otherapp"
