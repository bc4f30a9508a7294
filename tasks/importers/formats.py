"""Task files (JSON, JSON Lines, CSV/TSV, plain text) parsed lazily into task items.

Each parser holds one item (or one line) at a time, so an upload of any length is read in
constant memory; the caller decides what to do with items already yielded when a later one
turns out to be broken.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath
from typing import Any

import ijson
import orjson

from tasks.importers.errors import ImportFormatError
from tasks.importers.media import MEDIA_KINDS, SCRIPT_EXTENSIONS, media_kind
from tasks.importers.streams import (
    DEFAULT_MAX_DECOMPRESSED_BYTES,
    Readable,
    _Raw,
    iter_lines,
    open_bytes,
    strip_bom,
)

TASK_FORMATS = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "txt",
}
SUPPORTED = frozenset(TASK_FORMATS) | frozenset(MEDIA_KINDS)
# Consulted only when the name has no known extension (a URL like /api/export).
_CONTENT_TYPES = {
    "application/json": "json",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/x-jsonlines": "jsonl",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "text/plain": "txt",
}
# csv's limit is process-wide and defaults to 128 KiB, less than one long document.
CSV_FIELD_LIMIT = 16 * 2**20
# Small chunks keep an error's byte range, and so its message, precise.
_JSON_CHUNK_BYTES = 16 * 1024
# Runs of whole list items parsed at once (orjson): a chunk plus one item in memory.
_JSON_LIST_CHUNK_BYTES = 256 * 1024
# A list whose items are not objects, or a huge item, never shows a "},": past this the
# streaming parser takes over.
_JSON_LIST_MAX_RUN = 8 * _JSON_LIST_CHUNK_BYTES
_JSON_WHITESPACE = b" \t\r\n"
# Deeper JSON is refused before parsing: ijson's memory grows with the square of the depth
# (a 200 KB body of 100k "[" took 25 GB), and json.loads recurses. orjson stops at 1024 too.
MAX_JSON_DEPTH = 512


def iter_items(
    *,
    filename: str,
    stream: Readable,
    content_type: str | None = None,
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES,
) -> Iterator[Any]:
    """Task items of an uploaded file: LS tasks (``{"data": ..., "annotations": ...}``) or
    bare data objects, as written. ``.gz`` names are decompressed on the fly, refused past
    ``max_decompressed_bytes``. The format is checked now; the content as it is iterated."""
    name = PurePosixPath(filename.replace("\\", "/")).name.lower()
    gunzip = name.endswith(".gz")
    fmt = _format_of(name.removesuffix(".gz") if gunzip else name, content_type, filename)
    reader = open_bytes(
        stream, gunzip=gunzip, max_decompressed_bytes=max_decompressed_bytes, filename=filename
    )
    if fmt in ("json", "jsonl"):
        reader = io.BufferedReader(
            _Raw(_NoNulEscapes(reader, filename)), buffer_size=_NUL_SCAN_BYTES
        )
    return _PARSERS[fmt](reader, filename)


# An escaped NUL: "\u0000" after an even number of backslashes ("\\u0000" is text).
_NUL_SCAN_BYTES = 64 * 1024
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class _NoNulEscapes:
    """A JSON stream that refuses text holding ``\u0000``: PostgreSQL cannot store a NUL in
    jsonb (the import failed with a 500 at the COPY). Each chunk is searched with the end of
    the previous one, so an escape cut by the chunk edge is still found."""

    def __init__(self, source: Readable, filename: str) -> None:
        self._source = source
        self._filename = filename
        self._tail = b""
        self._offset = 0

    def read(self, size: int = -1, /) -> bytes:
        data = self._source.read(size)
        window = self._tail + data
        # The plain substring test is a fast scan; the regex (backslash parity) only runs
        # on the rare chunk that holds the letters.
        found = _NUL_ESCAPE.search(window) if b"\\u0000" in window else None
        if found:
            raise ImportFormatError(
                "text cannot hold NUL characters (\\u0000), "
                f"near byte {self._offset - len(self._tail) + found.end() - 6}",
                filename=self._filename,
            )
        self._offset += len(data)
        self._tail = window[-16:]
        return data


def _format_of(name: str, content_type: str | None, filename: str) -> str:
    suffix = PurePosixPath(name).suffix
    if suffix in TASK_FORMATS:
        return TASK_FORMATS[suffix]
    kind = media_kind(name)
    if kind is not None:
        raise ImportFormatError(
            f"{kind} files are imported as media, not read as tasks", filename=filename
        )
    if suffix.lower() in SCRIPT_EXTENSIONS:
        # Whatever content type the client claims: an HTML or SVG page is neither tasks nor
        # media, and taking it as plain text would hide the mistake.
        raise ImportFormatError(
            f"{suffix} files can carry scripts and are not imported", filename=filename
        )
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime in _CONTENT_TYPES:
        return _CONTENT_TYPES[mime]
    shown = f"file type {suffix!r}" if suffix else "a file without an extension"
    supported = ", ".join(sorted(SUPPORTED))
    raise ImportFormatError(
        f"{shown} is not supported; use one of {supported} (task files may be .gz)",
        filename=filename,
    )


def _task_object(value: Any, *, filename: str, row: int, location: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    raise ImportFormatError(
        f"expected a JSON object (a task or its data), found {type(value).__name__}",
        filename=filename,
        row=row,
        location=location,
    )


# --- JSON --------------------------------------------------------------------------------------
def _iter_json(reader: io.BufferedReader, filename: str) -> Iterator[Any]:
    data, start = _read_to_first_value(reader)
    first = data.lstrip(_JSON_WHITESPACE)[:1]
    if not first:
        raise ImportFormatError("the file is empty", filename=filename)
    if first not in (b"[", b"{"):
        raise ImportFormatError(
            "expected a JSON list of tasks or a single task object", filename=filename
        )
    if first == b"[":
        yield from _iter_json_list(reader, data, start, filename)
    else:
        yield from _ijson_items(reader, data, start, filename, prefix="", count=0)


def _iter_json_list(
    reader: io.BufferedReader, data: bytes, start: int, filename: str
) -> Iterator[Any]:
    """A JSON list, cut into runs of whole items that orjson parses in one call.

    The streaming parser (ijson) cost ~20 us an item, most of a 100k-task import. Here the
    buffer is cut at an item boundary and ``[`` + the run + ``]`` goes to orjson. A boundary
    is looked for as "}," before the first item's opening (``{"text":``, learnt from the
    first item), then as any "},". JSON is lexed left to right, so when the run parses it
    ends at a real boundary; when it does not, the cut fell inside a string or a nested
    value (an earlier one is tried), or the file is broken: then the rest goes to ijson,
    which names the bad item as before. Memory holds one chunk plus one item.
    """
    pos = data.index(b"[") + 1
    opening = _ITEM_OPENING.match(data, pos + _leading_blanks(data, pos))
    head = opening[0] if opening else None
    count = 0
    while True:
        short = len(data) - pos < _JSON_LIST_MAX_RUN  # else ijson takes over: flat memory
        if data.find(b"},", pos) < 0 and short and (more := reader.read(_JSON_LIST_CHUNK_BYTES)):
            data += more
            continue
        parsed = _parse_run(data, pos, head)
        if parsed is None:
            # Hand the rest to the streaming parser as a list of its own.
            rest = b"[" + data[pos:]
            yield from _ijson_items(
                reader, rest, start + pos - 1, filename, prefix="item", count=count
            )
            return
        items, after = parsed
        for value in items:
            count += 1
            yield _json_item(value, filename, count)
        if after < 0:
            return  # the run went to the closing bracket: the whole list is read
        start += after
        data = data[after:] + reader.read(_JSON_LIST_CHUNK_BYTES)
        pos = 0


# The start of an object up to its first key's colon: {"text":
_ITEM_OPENING = re.compile(rb'\{\s*"(?:[^"\\]|\\.)*"\s*:')
_RUN_CUT_TRIES = 8


def _leading_blanks(data: bytes, pos: int) -> int:
    return len(data) - pos - len(data[pos:].lstrip(_JSON_WHITESPACE))


def _boundaries(data: bytes, pos: int, head: bytes | None) -> Iterator[tuple[int, int]]:
    """Candidate item boundaries in ``data[pos:]``, last first: (index of the "}" ending an
    item, index just after the comma that follows it)."""
    end = len(data)
    while head and (i := data.rfind(head, pos, end)) > pos:
        window = max(pos, i - 64)
        before = data[window:i].rstrip(_JSON_WHITESPACE)
        inner = before[:-1].rstrip(_JSON_WHITESPACE)
        if before.endswith(b",") and inner.endswith(b"}"):
            yield window + len(inner) - 1, window + len(before)
        end = i
    end = len(data)
    while (cut := data.rfind(b"},", pos, end)) >= 0:
        yield cut, cut + 2
        end = cut + 1


def _parse_run(data: bytes, pos: int, head: bytes | None) -> tuple[list[Any], int] | None:
    """Items of ``data[pos:]`` up to its last item boundary, and where the next run starts
    (-1: the run is the end of the list). None if no cut parses."""
    tried = 0
    seen = set()
    for cut, after in _boundaries(data, pos, head):
        if cut in seen:
            continue
        seen.add(cut)
        try:
            return orjson.loads(b"[" + data[pos : cut + 1] + b"]"), after
        except orjson.JSONDecodeError:
            tried += 1  # inside a string or a nested value: try the one before it
            if tried >= _RUN_CUT_TRIES:
                return None
    if tried:
        return None
    try:  # no boundary left in the buffer: this is the last run, "]" included
        return orjson.loads(b"[" + data[pos:]), -1
    except orjson.JSONDecodeError:
        return None


def _ijson_items(
    reader: io.BufferedReader, data: bytes, start: int, filename: str, *, prefix: str, count: int
) -> Iterator[Any]:
    """Items under ``prefix`` ("item": of a list; "": the document itself) with ijson, from
    ``data`` (at byte ``start`` of the file) and the rest of ``reader``; ``count`` items came
    before."""
    found = ijson.sendable_list()
    parser = ijson.items_coro(found, prefix, use_float=True)
    depth = _DepthGuard()
    while True:
        end = start + len(data)
        if not depth.feed(data):
            raise ImportFormatError(
                f"JSON nested deeper than {MAX_JSON_DEPTH} levels",
                filename=filename,
                row=count + 1,
                location=f"item {count + 1}, bytes {start}-{end - 1}",
            )
        try:
            if data:
                parser.send(data)
            else:
                parser.close()  # flushes the parser: a truncated file fails here
        except ijson.JSONError as exc:
            # Items completed before the error in this chunk are still good.
            for value in found:
                count += 1
                yield _json_item(value, filename, count)
            span = f"bytes {start}-{end - 1}" if data else f"the end of the file, byte {start}"
            where = f"item {count + 1}, {span}"
            raise ImportFormatError(
                _yajl_reason(exc), filename=filename, row=count + 1, location=where
            ) from None
        for value in found:
            count += 1
            yield _json_item(value, filename, count)
        del found[:]
        if not data:
            return
        start = end
        data = reader.read(_JSON_CHUNK_BYTES)


_JSON_STRUCTURE = re.compile(rb'["\\\[\]{}]')


class _DepthGuard:
    """Tracks the nesting depth of a JSON text fed chunk by chunk (strings and escapes
    skipped); ``feed`` is False once it passes MAX_JSON_DEPTH. Only structural bytes are
    visited, so a text-heavy file costs a regex scan."""

    def __init__(self) -> None:
        self.depth = 0
        self.in_string = False
        self.skip = 0  # bytes of the next chunk to skip (an escape cut by the chunk edge)

    def feed(self, data: bytes) -> bool:
        skip_until = self.skip
        self.skip = 0
        for match in _JSON_STRUCTURE.finditer(data):
            at = match.start()
            if at < skip_until:
                continue
            char = data[at]
            if self.in_string:
                if char == 0x5C:  # backslash: the next byte is escaped
                    skip_until = at + 2
                    self.skip = max(0, skip_until - len(data))
                elif char == 0x22:
                    self.in_string = False
            elif char == 0x22:
                self.in_string = True
            elif char in b"[{":
                self.depth += 1
                if self.depth > MAX_JSON_DEPTH:
                    return False
            elif char in b"]}":
                self.depth -= 1
        return True


def _read_to_first_value(reader: io.BufferedReader) -> tuple[bytes, int]:
    """Bytes up to and including the first non-blank one (BOM dropped), and their offset."""
    data = reader.read(_JSON_CHUNK_BYTES)
    offset = len(data) - len(strip_bom(data))
    data = data[offset:]
    while data and not data.lstrip(_JSON_WHITESPACE):
        more = reader.read(_JSON_CHUNK_BYTES)
        if not more:
            break
        data += more
    return data, offset


def _json_item(value: Any, filename: str, number: int) -> dict[str, Any]:
    return _task_object(value, filename=filename, row=number, location=f"item {number}")


def _yajl_reason(exc: Exception) -> str:
    text = exc.args[0] if exc.args else str(exc)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text).strip().splitlines()[0] if str(text).strip() else "invalid JSON"


def _iter_jsonl(reader: io.BufferedReader, filename: str) -> Iterator[Any]:
    for lineno, text in enumerate(iter_lines(reader, filename=filename), 1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportFormatError(
                f"{exc.msg} (column {exc.colno})", filename=filename, row=lineno
            ) from None
        except RecursionError:
            raise ImportFormatError(
                "JSON nested too deeply", filename=filename, row=lineno
            ) from None
        yield _task_object(value, filename=filename, row=lineno, location=f"line {lineno}")


# --- CSV / TSV / text --------------------------------------------------------------------------
def _iter_csv(reader: io.BufferedReader, filename: str, delimiter: str = ",") -> Iterator[Any]:
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)
    rows = csv.reader(iter_lines(reader, filename=filename), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    while True:
        start = rows.line_num + 1  # a quoted field may span lines: name where the row began
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFormatError(_csv_reason(exc), filename=filename, row=start) from None
        if not any(row):  # a blank line, or only separators
            continue
        if header is None:
            header = _csv_header(row, filename, start)
        elif len(row) != len(header):
            raise ImportFormatError(
                f"expected {len(header)} columns as in the header, found {len(row)}",
                filename=filename,
                row=start,
            )
        else:
            yield dict(zip(header, row, strict=True))


def _csv_header(row: list[str], filename: str, lineno: int) -> list[str]:
    names = [cell.strip() for cell in row]
    for position, name in enumerate(names, 1):
        if not name:
            raise ImportFormatError(
                f"column {position} has no name in the header", filename=filename, row=lineno
            )
        if names.index(name) != position - 1:
            raise ImportFormatError(
                f"column {name!r} appears twice in the header",
                filename=filename,
                row=lineno,
                field=name,
            )
    return names


def _csv_reason(exc: csv.Error) -> str:
    text = str(exc)
    if "unexpected end of data" in text:
        return "unterminated quoted field"
    if "field larger than field limit" in text:
        return f"a field is longer than {CSV_FIELD_LIMIT} characters (an unterminated quote?)"
    return f"broken quoting ({text})"


def _iter_tsv(reader: io.BufferedReader, filename: str) -> Iterator[Any]:
    return _iter_csv(reader, filename, delimiter="\t")


def _iter_txt(reader: io.BufferedReader, filename: str) -> Iterator[Any]:
    for text in iter_lines(reader, filename=filename):
        line = text.rstrip("\r\n")
        if line.strip():
            yield {"text": line}


_PARSERS: dict[str, Callable[[io.BufferedReader, str], Iterator[Any]]] = {
    "json": _iter_json,
    "jsonl": _iter_jsonl,
    "csv": _iter_csv,
    "tsv": _iter_tsv,
    "txt": _iter_txt,
}
