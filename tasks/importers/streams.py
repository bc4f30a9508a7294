"""Byte streams for the parsers: any ``read(n)`` object, optionally gunzipped with a cap, read
as numbered UTF-8 lines."""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from tasks.importers.errors import ImportFormatError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

DEFAULT_MAX_DECOMPRESSED_BYTES = 2 * 2**30
# Lines are read in 64 KiB blocks; a longer line is gathered whole, up to this many bytes.
MAX_LINE_BYTES = 32 * 2**20
_BUFFER_BYTES = 64 * 1024
_BOM = b"\xef\xbb\xbf"


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class _Raw(io.RawIOBase):
    """Adapts an object with ``read(n)`` (a Django upload, a file, a socket body) to the raw
    stream ``io.BufferedReader`` wants, so every parser gets a fast ``readline``."""

    def __init__(self, source: Readable) -> None:
        super().__init__()
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self._read(len(view))
        view[: len(data)] = data
        return len(data)

    def _read(self, size: int) -> bytes:
        return self._source.read(size)


class _Gunzipped(_Raw):
    """Decompressed bytes, refused past ``limit`` so a small upload cannot expand without end
    (a gzip bomb); broken archives become ImportFormatError."""

    def __init__(self, source: Readable, *, limit: int, filename: str) -> None:
        super().__init__(gzip.GzipFile(fileobj=io.BufferedReader(_Raw(source)), mode="rb"))
        self._limit = limit
        self._filename = filename
        self._total = 0

    def _read(self, size: int) -> bytes:
        try:
            data = super()._read(size)
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise ImportFormatError(
                f"not a valid gzip file ({exc})", filename=self._filename
            ) from exc
        self._total += len(data)
        if self._total > self._limit:
            raise ImportFormatError(
                f"decompresses to more than {self._limit} bytes", filename=self._filename
            )
        return data


def open_bytes(
    stream: Readable, *, gunzip: bool, max_decompressed_bytes: int, filename: str
) -> io.BufferedReader:
    raw: _Raw = (
        _Gunzipped(stream, limit=max_decompressed_bytes, filename=filename)
        if gunzip
        else _Raw(stream)
    )
    return io.BufferedReader(raw, buffer_size=_BUFFER_BYTES)


def iter_lines(reader: io.BufferedReader, *, filename: str) -> Iterator[str]:
    """Each line with its ending, decoded as UTF-8 (a leading BOM is dropped). Lines end at
    ``\n``, ``\r\n`` or ``\r``, as csv expects of a file opened with ``newline=""``."""
    offset = 0  # bytes before the current block, for error messages
    lineno = 0  # newlines before the current block
    try:
        for block in _blocks(reader):
            start = len(_BOM) if offset == 0 and block.startswith(_BOM) else 0
            try:
                text = block[start:].decode("utf-8")
            except UnicodeDecodeError as exc:
                at = start + exc.start
                raise ImportFormatError(
                    f"not valid UTF-8 at byte {offset + at} ({exc.reason}); save the file as UTF-8",
                    filename=filename,
                    row=lineno + block.count(b"\n", 0, at) + 1,
                ) from None
            nul = block.find(b"\x00", start)
            if nul >= 0:
                # Text files hold no NUL (PostgreSQL cannot even store one in JSON): this is
                # a binary file or a wrong encoding (UTF-16 starts with one).
                raise ImportFormatError(
                    f"a NUL byte at byte {offset + nul}: not a UTF-8 text file",
                    filename=filename,
                    row=lineno + block.count(b"\n", 0, nul) + 1,
                )
            yield from io.StringIO(text, newline="")
            offset += len(block)
            lineno += block.count(b"\n")
    except _LineTooLong:
        raise ImportFormatError(
            f"the line is longer than {MAX_LINE_BYTES} bytes", filename=filename, row=lineno + 1
        ) from None


class _LineTooLong(Exception):
    pass


def _blocks(reader: io.BufferedReader) -> Iterator[bytes]:
    """The stream in blocks of whole lines. Decoding a block at a time keeps per-line work in
    C, and cutting after a newline byte is safe because one never occurs inside a multi-byte
    UTF-8 sequence, so a decoding error still names its exact byte."""
    parts: list[bytes] = []
    pending = 0  # bytes of an unfinished line held in parts
    while chunk := reader.read(_BUFFER_BYTES):
        cut = chunk.rfind(b"\n") + 1
        if not cut:
            parts.append(chunk)
            pending += len(chunk)
            if pending > MAX_LINE_BYTES:
                raise _LineTooLong
            continue
        parts.append(chunk[:cut])
        yield b"".join(parts)
        parts = [chunk[cut:]]
        pending = len(chunk) - cut
    if pending:
        yield b"".join(parts)


def strip_bom(data: bytes) -> bytes:
    return data[len(_BOM) :] if data.startswith(_BOM) else data
