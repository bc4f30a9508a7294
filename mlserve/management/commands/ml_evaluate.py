from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mlserve.builtin.encoders import ENCODERS
from mlserve.services.evaluation import dataset_evaluate


class Command(BaseCommand):
    help = (
        "Train the built-in intent (and, for JSONL data with entities, entity) models on a "
        "data set's train split through the real services and print their test metrics."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", required=True, help="folder with train/test .csv or .jsonl")
        parser.add_argument("--json", action="store_true", help="print one JSON document")
        parser.add_argument("--limit", type=int, help="at most N rows of each split (sampled)")
        parser.add_argument("--keep", action="store_true", help="keep the evaluation project")
        parser.add_argument(
            "--encoder",
            choices=sorted(ENCODERS),
            help="the intent model's sentence encoder (default: the one of English, minilm)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        folder = Path(options["data"])
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder")
        if options["limit"] is not None and options["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        as_json = options["json"]

        def say(message: str) -> None:
            (self.stderr if as_json else self.stdout).write(f"  {message}")

        try:
            report = dataset_evaluate(
                folder=folder,
                limit=options["limit"],
                keep=options["keep"],
                encoder=options["encoder"],
                say=say,
            )
        except (FileNotFoundError, KeyError, ValueError) as exc:
            raise CommandError(f"cannot evaluate {folder}: {exc}") from exc
        if as_json:
            self.stdout.write(json.dumps(report, indent=2))
            return
        self.stdout.write(self._text(report))

    @staticmethod
    def _text(report: dict[str, Any]) -> str:
        def pct(value: float | None) -> str:
            return "n/a" if value is None else f"{100 * value:.2f} %"

        lines = [
            f"{report['data']}: {report['train_tasks']} training, {report['test_tasks']} test tasks",
            f"intent accuracy {pct(report['intent_accuracy'])} ({report['encoder']}), "
            f"macro F1 {pct(report['intent_macro_f1'])}",
            f"entity F1 {pct(report['entity_f1'])}",
        ]
        for model, seconds in report["train_seconds"].items():
            rate = report["predict_per_second"][model]
            lines.append(f"{model}: trained in {seconds} s, predicts {rate} tasks/s")
        if report["project"]:
            lines.append(f"kept project {report['project']}")
        return "\n".join(lines)
