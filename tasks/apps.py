from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "tasks"

    def ready(self) -> None:
        from projects.services import config_change_check_register
        from tasks.services.config_usage import config_fits_annotations

        config_change_check_register(config_fits_annotations)
