"""The demo's Celery app: ``celery -A myproject worker`` starts a worker.

Its configuration is Django's settings under ``CELERY_`` (myproject/settings.py).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myproject.settings")

app = Celery("myproject")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
