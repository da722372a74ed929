"""The Celery application.

Tasks subclass Celery's ``DjangoTask`` so ``task.delay_on_commit(...)`` enqueues only once the
surrounding transaction commits (a rolled-back dispatch never leaves a task behind).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcsportal.settings")

app = Celery("rcsportal", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
