from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"

    def ready(self) -> None:
        from projects.jobs import webhook_delivery_queue
        from projects.webhooks import delivery_queue_register

        delivery_queue_register(webhook_delivery_queue)
