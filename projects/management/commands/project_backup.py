"""python manage.py project_backup <project id> <archive.tar.gz>"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from projects.backup import project_backup
from projects.models import Project


class Command(BaseCommand):
    help = (
        "Write one project (config, tasks, annotations, drafts, predictions, reviews, "
        "members, audit records...) to a tar.gz archive that project_restore reads."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", type=int, help="the project's id")
        parser.add_argument("archive", type=Path, help="the .tar.gz file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(pk=options["project"]).first()
        if project is None:
            raise CommandError(f"project {options['project']}: no such project")
        archive: Path = options["archive"]
        if not archive.parent.is_dir():
            raise CommandError(f"{archive.parent}: no such folder")
        summary = project_backup(project=project, path=archive)
        rows = sum(summary.counts.values())
        self.stdout.write(f"{archive}: project {project.pk} ({project.title}), {rows} rows")
        for label, count in summary.counts.items():
            self.stdout.write(f"  {label}: {count}")
