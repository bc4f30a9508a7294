"""Error types raised by config parsing and result validation.

Both errors carry every problem found, so an editor or API client can show them all at once
instead of making the user fix one problem per round trip.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class ConfigIssue:
    message: str
    tag: str | None = None
    attribute: str | None = None
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line is not None else self.message


@dataclass(frozen=True)
class ResultIssue:
    index: int | None
    item_id: str | None
    field: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        where = [f"item {self.index}"] if self.index is not None else []
        if self.item_id is not None:
            where.append(f"id {self.item_id!r}")
        if self.field is not None:
            where.append(self.field)
        return f"{', '.join(where)}: {self.message}" if where else self.message


class ConfigError(ValueError):
    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("; ".join(str(issue) for issue in issues))


class ResultError(ValueError):
    def __init__(self, issues: list[ResultIssue]) -> None:
        self.issues = issues
        super().__init__("; ".join(str(issue) for issue in issues))
