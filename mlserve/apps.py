from django.apps import AppConfig


class MlserveConfig(AppConfig):
    name = "mlserve"

    def ready(self) -> None:
        from mlserve.jobs import annotation_saved_receiver, retrain_queue
        from mlserve.services.remote import ml_backend_task_predict
        from mlserve.services.training import builtin_task_predict
        from tasks.services import retrain_handler_register
        from tasks.services.labelling import label_prediction_fetcher_register
        from tasks.signals import annotation_saved

        # tasks never imports mlserve (DESIGN §2): mlserve plugs into its hooks here.
        annotation_saved.connect(annotation_saved_receiver, dispatch_uid="mlserve-backends")

        from mlserve.models import (
            MLBackend,
            ModelVersion,
            PredictionProbabilities,
            ProjectMLSettings,
        )
        from projects.backup import backup_register

        # Embeddings stay out of backups: a cache, recomputed on the next training.
        for model, path in (
            (ProjectMLSettings, "project"),
            (MLBackend, "project"),
            (ModelVersion, "project"),
            (PredictionProbabilities, "prediction__project"),
        ):
            backup_register(model, path)
        # The built-in model first: it answers in milliseconds, a backend within its timeout.
        label_prediction_fetcher_register(builtin_task_predict)
        label_prediction_fetcher_register(ml_backend_task_predict)
        retrain_handler_register(retrain_queue)

        from annotator.jobs_runtime import JobKind, job_kind_register
        from mlserve.models import ModelStatus

        # A training resumes when its worker dies (annotator/jobs_runtime.py).
        job_kind_register(
            JobKind(
                name="training", model=ModelVersion, task="mlserve.jobs.train_run",
                queued=ModelStatus.QUEUED, running=ModelStatus.TRAINING,
                failed=ModelStatus.FAILED, failure=lambda message: {"error": message},
            )
        )  # fmt: skip
