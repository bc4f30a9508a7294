from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from activelearn.simulation import RANDOM, plot_write, simulate


class Command(BaseCommand):
    help = (
        "Simulate active learning on a data set (train.csv/test.csv or train.jsonl/test.jsonl)"
        " through the real services, an oracle copying the gold labels, against random order;"
        " print the labels each strategy needs to reach 90 % and 95 % of the full-data accuracy."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", required=True, help="folder with train/test .csv or .jsonl")
        parser.add_argument(
            "--strategy",
            action="append",
            help="a queue strategy, optionally with settings: margin, entropy,"
            " margin:exploration=0,diversity=no ... (repeatable; default: the project default)."
            " Random order always runs as the baseline.",
        )
        parser.add_argument("--seeds", type=int, default=3, help="runs per strategy (default 3)")
        parser.add_argument("--batch", type=int, default=100, help="labels per round (100)")
        parser.add_argument(
            "--max-labels", type=int, default=5000, help="stop a run there if not at 95 %% yet"
        )
        parser.add_argument("--limit", type=int, help="at most N rows of each split (sampled)")
        parser.add_argument("--plot", help="write the mean curves to this PNG")
        parser.add_argument("--json", action="store_true", help="print one JSON document")

    def handle(self, *args: Any, **options: Any) -> None:
        folder = Path(options["data"])
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder")
        for name in ("seeds", "batch", "max_labels", "limit"):
            if options[name] is not None and options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1")
        as_json = options["json"]

        def say(message: str) -> None:
            (self.stderr if as_json else self.stdout).write(f"  {message}")

        try:
            report = simulate(
                folder=folder,
                strategies=options["strategy"],
                seeds=options["seeds"],
                batch=options["batch"],
                max_labels=options["max_labels"],
                limit=options["limit"],
                say=say,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except (FileNotFoundError, KeyError, ValueError) as exc:
            raise CommandError(f"cannot simulate on {folder}: {exc}") from exc
        if options["plot"]:
            plot_write(report, Path(options["plot"]))
        if as_json:
            self.stdout.write(json.dumps(report, indent=2))
            return
        self.stdout.write(self._text(report))

    @staticmethod
    def _text(report: dict[str, Any]) -> str:
        lines = [
            f"{report['data']}: pool {report['pool']} tasks, test {report['test']},"
            f" batches of {report['batch']}, {report['seeds']} seeds, {report['seconds']} s",
            f"full-data accuracy {report['full_accuracy']:.4f}; targets"
            f" {report['targets']['90']:.4f} (90 %), {report['targets']['95']:.4f} (95 %)",
            f"{'strategy':<40} {'to 90 %':>8} {'to 95 %':>8} {'saving':>7} {'s/10k':>7}",
        ]

        def cell(value: Any) -> str:
            return "-" if value is None else str(value)

        for name, row in report["strategies"].items():
            saving = row["saving_95"]
            shown = "" if name == RANDOM or saving is None else f"{saving:.0%}"
            lines.append(
                f"{name:<40} {cell(row['labels_to_90']):>8} {cell(row['labels_to_95']):>8}"
                f" {shown:>7} {cell(row['scoring_seconds_per_10k']):>7}"
            )
        lines.append(
            "labels: mean over the seeds ('-': a seed never reached it); saving: labels saved"
            " against random order at 95 %; s/10k: queue scoring seconds per 10k tasks"
        )
        return "\n".join(lines)
