"""DRF's JSON parser, with two bodies refused as a 400 that became 500s: nested too deeply
(``json`` raises RecursionError, which DRF does not catch), and text holding ``\u0000``
(PostgreSQL cannot store a NUL in jsonb or text)."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import IO, Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# An escaped NUL: "\u0000" after an even number of backslashes ("\\u0000" is text).
NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class JSONParser(parsers.JSONParser):
    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        raw = stream.read()
        if b"\\u0000" in raw and NUL_ESCAPE.search(raw):
            raise ParseError("JSON parse error - text cannot hold NUL characters (\\u0000)")
        try:
            return super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None
