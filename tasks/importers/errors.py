from __future__ import annotations


class ImportFormatError(ValueError):
    """An uploaded file that cannot be read as tasks.

    ``row`` is the 1-based line (text formats) or item (JSON) the problem is at, ``field`` the
    column or key involved, and ``location`` how the message names the place ("line 17",
    "item 3, bytes 0-8191"). ``str()`` reads like "tasks.csv line 17: unterminated quoted field".
    """

    def __init__(
        self,
        message: str,
        *,
        filename: str = "",
        row: int | None = None,
        field: str | None = None,
        location: str | None = None,
    ) -> None:
        self.message = message
        self.filename = filename
        self.row = row
        self.field = field
        self.location = location if location is not None else (f"line {row}" if row else "")
        where = " ".join(part for part in (filename, self.location) if part)
        super().__init__(f"{where}: {message}" if where else message)

    def with_filename(self, filename: str) -> ImportFormatError:
        """The same error reported against another name (a URL rather than its last segment)."""
        return ImportFormatError(
            self.message,
            filename=filename,
            row=self.row,
            field=self.field,
            location=self.location,
        )
