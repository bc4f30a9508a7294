"""The cursor of keyset pages: where the last page ended, opaque to clients.

It names the sort it belongs to, so a cursor replayed under another sort is a 400 rather
than a silently wrong page.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from django.core.exceptions import ValidationError


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
