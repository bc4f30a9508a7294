"""Keyset pagination pieces: the row-value comparison a page seeks with, and its cursor.

``(key, id) > (?, ?)`` with an index on (project, key, id) is one index seek on SQLite
(3.15+) and PostgreSQL, so page 20 000 costs what page 1 costs. Django's own tuple lookups
fall back to ``key > ? OR (key = ? AND id > ?)`` on SQLite, which walks the index from the
start of the project.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import BooleanField, F, Func, Value


class RowCompare(Func):
    """``(a, b) > (x, y)``: an index seek on (project, a, b) on SQLite and PostgreSQL."""

    output_field = BooleanField()

    def __init__(self, columns: Sequence[str], op: str, values: Sequence[Any]) -> None:
        self.op = op
        super().__init__(*[F(c) for c in columns], *[Value(v) for v in values])

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        parts: list[str] = []
        params: list[Any] = []
        for expression in self.get_source_expressions():
            sql, more = compiler.compile(expression)
            parts.append(sql)
            params.extend(more)
        half = len(parts) // 2
        return f"({', '.join(parts[:half])}) {self.op} ({', '.join(parts[half:])})", params


@dataclass(frozen=True)
class Cursor:
    """Where a page ends. ``segment`` 1 holds the tasks whose (nullable) sort key is null;
    they come after all others in both directions, ordered by id."""

    sort: str
    segment: int
    key: float | None
    id: int

    def encode(self) -> str:
        raw = json.dumps([self.sort, self.segment, self.key, self.id], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, sort: str) -> Cursor:
        """The cursor of a previous page of the same sort; ValidationError naming ``cursor``."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            name, segment, key, task_id = json.loads(raw)
        except (ValueError, TypeError, binascii.Error):
            raise ValidationError({"cursor": ["not a cursor of this API"]}) from None
        ok = (
            isinstance(segment, int)
            and segment in (0, 1)
            and (key is None or (isinstance(key, int | float) and not isinstance(key, bool)))
            and isinstance(task_id, int)
            and 0 <= task_id < 2**63
        )
        if not ok:
            raise ValidationError({"cursor": ["not a cursor of this API"]})
        if name != sort:
            raise ValidationError({"cursor": [f"the cursor is of sort {name!r}, not {sort!r}"]})
        return cls(sort=name, segment=segment, key=key, id=task_id)
