"""python manage.py project_restore <archive.tar.gz>"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from projects.backup import RestoreError, project_restore


class Command(BaseCommand):
    help = (
        "Restore a project_backup archive with its own ids, in one transaction: on any "
        "conflict nothing is written. Restored accounts have no password (reset or SSO)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        archive: Path = options["archive"]
        if not archive.is_file():
            raise CommandError(f"{archive}: no such file")
        try:
            summary = project_restore(path=archive)
        except RestoreError as exc:
            raise CommandError(str(exc)) from None
        rows = sum(summary.counts.values())
        self.stdout.write(f"{archive}: {rows} rows restored")
        for label, count in summary.counts.items():
            self.stdout.write(f"  {label}: {count}")
