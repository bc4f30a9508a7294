from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "tasks"

    def ready(self) -> None:
        from projects.services import config_change_check_register
        from tasks.jobs import annotation_export_queue
        from tasks.services.config_usage import config_fits_annotations
        from tasks.signals import annotation_saved

        config_change_check_register(config_fits_annotations)

        from annotator.jobs_runtime import JobKind, job_kind_register
        from tasks.models import ExportJob, ImportJob, JobStatus

        # Imports and exports resume when their worker dies (annotator/jobs_runtime.py).
        job_kind_register(
            JobKind(
                name="import", model=ImportJob, task="tasks.jobs.import_run",
                queued=JobStatus.QUEUED, running=JobStatus.RUNNING, failed=JobStatus.FAILED,
                failure=lambda message: {
                    "errors": [{"row": None, "field": "worker", "message": message}]
                },
            )
        )  # fmt: skip
        job_kind_register(
            JobKind(
                name="export", model=ExportJob, task="tasks.jobs.export_run",
                queued=JobStatus.QUEUED, running=JobStatus.RUNNING, failed=JobStatus.FAILED,
                failure=lambda message: {"error": message},
            )
        )  # fmt: skip

        from tasks.services.webhooks import annotation_saved_webhooks

        annotation_saved.connect(annotation_saved_webhooks, dispatch_uid="tasks-webhooks")
        annotation_saved.connect(annotation_export_queue, dispatch_uid="tasks-export-storages")

        from projects.backup import backup_register
        from tasks.models import Annotation, Draft, Prediction, Task, TaskAssignment

        # Restore order: a model after those it points to (drafts point to annotations).
        for model, path in (
            (Task, "project"),
            (Prediction, "project"),
            (Annotation, "project"),
            (Draft, "task__project"),
            (TaskAssignment, "project"),
        ):
            backup_register(model, path)
