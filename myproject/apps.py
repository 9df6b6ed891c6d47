from django.apps import AppConfig


class MyprojectConfig(AppConfig):
    name = "myproject"
    verbose_name = "Demo content platform"
