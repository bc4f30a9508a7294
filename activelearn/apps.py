from typing import Any

from django.apps import AppConfig


class ActivelearnConfig(AppConfig):
    name = "activelearn"

    def ready(self) -> None:
        from mlserve.models import ModelVersion
        from mlserve.signals import predictions_written, version_kept_back

        def refresh(sender: Any, version: ModelVersion, **kwargs: Any) -> None:
            from activelearn.services import queue_refresh_for_version

            queue_refresh_for_version(version=version)

        predictions_written.connect(refresh, sender=ModelVersion, weak=False)
        version_kept_back.connect(refresh, sender=ModelVersion, weak=False)

        from activelearn.models import QueueRound, QueueSettings
        from projects.backup import backup_register

        backup_register(QueueSettings, "project")
        backup_register(QueueRound, "project")
