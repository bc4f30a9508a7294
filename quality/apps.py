from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "quality"

    def ready(self) -> None:
        from quality.services_workflow import annotation_saved_receiver
        from tasks.signals import annotation_saved

        annotation_saved.connect(annotation_saved_receiver, dispatch_uid="quality-review")
