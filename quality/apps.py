from typing import Any

from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "quality"

    def ready(self) -> None:
        from django.db import transaction

        from projects.models import Project
        from tasks.models import Annotation, Task
        from tasks.signals import annotation_deleted, annotation_saved, tasks_imported

        def refresh(sender: Any, annotation: Annotation, created: bool, **kwargs: Any) -> None:
            # The hottest write: stay O(1). The task is cached on the annotation by
            # annotation_create/update; its counters are those before this annotation.
            if annotation.ground_truth:
                return
            cached = Annotation.task.is_cached(annotation)  # type: ignore[attr-defined]
            if cached and annotation.task.total_annotations + int(created) < 2:
                return
            task_id = annotation.task_id

            def run() -> None:
                from quality.services import task_agreement_refresh

                task_agreement_refresh(task_id=task_id)

            transaction.on_commit(run)

        def deleted(sender: Any, task_id: int, **kwargs: Any) -> None:
            def run() -> None:
                from quality.services import task_agreement_refresh

                task_agreement_refresh(task_id=task_id)

            transaction.on_commit(run)

        def sample(sender: Any, project: Project, after_id: int, **kwargs: Any) -> None:
            from quality.services import overlap_apply

            overlap_apply(project=project, after_id=after_id)

        annotation_saved.connect(refresh, sender=Annotation, weak=False)
        annotation_deleted.connect(deleted, sender=Annotation, weak=False)
        tasks_imported.connect(sample, sender=Task, weak=False)

        from projects.backup import backup_register
        from quality.models import ArbitrationItem, QualitySettings, ReviewDecision

        backup_register(QualitySettings, "project")
        backup_register(ArbitrationItem, "project")
        backup_register(ReviewDecision, "project")
        from quality.services_workflow import annotation_saved_receiver
        from tasks.signals import annotation_saved

        annotation_saved.connect(annotation_saved_receiver, dispatch_uid="quality-review")

        # Confidence routing follows the model: new predictions re-route the open tasks of
        # projects that set a threshold (managers can also re-route by POST .../routing).
        from mlserve.signals import predictions_written

        def reroute(sender: Any, version: Any, **kwargs: Any) -> None:
            from quality.services_workflow import task_routes_refresh

            project = Project.objects.get(pk=version.project_id)
            thresholds = (project.routing_low, project.routing_high, project.routing_margin)
            if any(value is not None for value in thresholds):
                task_routes_refresh(project=project)

        predictions_written.connect(reroute, weak=False, dispatch_uid="quality-routing")
