"""The Celery app. Jobs live in each app's ``jobs.py`` (never ``tasks.py``: see STYLE.md)."""

import os

from celery import Celery
from celery.signals import worker_ready, worker_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")

app = Celery("annotator")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(related_name="jobs")


def _announce_start(sender: object = None, **kwargs: object) -> None:
    from annotator.jobs_runtime import worker_announce_start

    worker_announce_start(sender, **kwargs)


def _announce_stop(sender: object = None, **kwargs: object) -> None:
    from annotator.jobs_runtime import worker_announce_stop

    worker_announce_stop(sender, **kwargs)


# Workers say they are there, so that a queued job can tell the user when none is.
worker_ready.connect(_announce_start, weak=False, dispatch_uid="worker-announce")
worker_shutdown.connect(_announce_stop, weak=False, dispatch_uid="worker-leave")
