from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from annotator.services import demo_seed
from projects.models import Project


class Command(BaseCommand):
    help = "Create the demo organization, projects and an admin (password printed once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing if any project exists"
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--utterances", type=int, default=300)
        parser.add_argument("--images", type=int, default=24)
        parser.add_argument("--clips", type=int, default=12)
        parser.add_argument(
            "--french", type=int, default=40, help="French utterances pre-annotated by spaCy"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and Project.objects.exists():
            self.stdout.write("Projects exist already: demo not seeded.")
            return
        result = demo_seed(
            seed=options["seed"],
            utterances=options["utterances"],
            images=options["images"],
            clips=options["clips"],
            french=options["french"],
            progress=lambda msg: self.stdout.write(f"  seeding {msg}"),
        )
        for project in result.projects:
            self.stdout.write(
                f"Project {project.pk}: {project.title} ({project.tasks.count()} tasks)"
            )
        if result.admin_password:
            self.stdout.write(self.style.SUCCESS("Demo admin created. Shown once, keep it:"))
            self.stdout.write(f"  username: {result.admin_username}")
            self.stdout.write(f"  password: {result.admin_password}")
            self.stdout.write(f"  API token: {result.api_token}")
        else:
            self.stdout.write(
                f"User '{result.admin_username}' existed: password unchanged "
                "(python manage.py changepassword admin to reset it)."
            )
