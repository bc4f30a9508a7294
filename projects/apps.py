from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"

    def ready(self) -> None:
        from projects.jobs import webhook_delivery_queue
        from projects.webhooks import delivery_queue_register

        delivery_queue_register(webhook_delivery_queue)

        from annotator.models import AuditEvent
        from projects.backup import backup_register
        from projects.models import Webhook

        backup_register(Webhook, "project")
        backup_register(AuditEvent, "project_id")
