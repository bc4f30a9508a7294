"""Pure helpers for media uploads: which kind a name is, a safe stored name, and a check of the
leading bytes so a renamed file (a script called ``photo.png``) is refused."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from pathlib import PurePosixPath

from tasks.importers.errors import ImportFormatError

MEDIA_EXTENSIONS: dict[str, frozenset[str]] = {
    "image": frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp"}),
    "audio": frozenset({".wav", ".mp3", ".ogg", ".flac", ".m4a"}),
    "video": frozenset({".mp4", ".m4v", ".mov", ".webm", ".ogv"}),
}
MEDIA_KINDS: dict[str, str] = {
    ext: kind for kind, extensions in MEDIA_EXTENSIONS.items() for ext in extensions
}
# Served from our origin these would run script in the annotator's session.
SCRIPT_EXTENSIONS = frozenset({".svg", ".svgz", ".html", ".htm", ".xhtml", ".xml", ".js"})
_MAX_STEM_CHARS = 100
_REPEATS = re.compile(r"_{2,}")


def media_kind(filename: str) -> str | None:
    """ "image", "audio" or "video" by the name's last extension, else None."""
    return MEDIA_KINDS.get(PurePosixPath(filename.replace("\\", "/")).suffix.lower())


def safe_media_name(filename: str) -> str:
    """A name to store an upload under: the last path segment, letters, digits, ``-_`` only,
    no leading dot, one lower-case media extension (``x.php.png`` becomes ``x_php.png``).
    Raises ImportFormatError for script-capable (``.svg``, ``.html``) or non-media names."""
    base = unicodedata.normalize("NFC", filename.replace("\\", "/").rsplit("/", 1)[-1])
    kept = "".join(
        char if char.isalnum() or char in "-_." else "_"
        for char in base
        if not unicodedata.category(char).startswith("C")
    )
    stem, dot, extension = kept.rpartition(".")
    suffix = "." + extension.lower()
    if not dot:
        raise ImportFormatError("a media file needs an extension", filename=kept or "(unnamed)")
    if suffix in SCRIPT_EXTENSIONS:
        raise ImportFormatError(
            f"{suffix} files can carry scripts and are not accepted as media", filename=kept
        )
    if suffix not in MEDIA_KINDS:
        supported = ", ".join(sorted(MEDIA_KINDS))
        raise ImportFormatError(f"not a media file; use one of {supported}", filename=kept)
    # Inner dots go so no server or browser can read an earlier extension as the real one.
    stem = _REPEATS.sub("_", stem.replace(".", "_")).strip("_-")[:_MAX_STEM_CHARS]
    return f"{stem or 'file'}{suffix}"


def sniff_media(head: bytes, kind: str) -> bool:
    """Whether ``head`` (the first 16+ bytes of a file) starts like a ``kind`` file."""
    return any(matches(head) for matches in _SIGNATURES.get(kind, ()))


def _riff(form: bytes) -> Callable[[bytes], bool]:
    return lambda head: head[:4] == b"RIFF" and head[8:12] == form


def _iso_media(head: bytes) -> bool:  # MP4, MOV, M4A: a box named "ftyp" at byte 4
    return head[4:8] == b"ftyp"


def _mpeg_frame(head: bytes) -> bool:  # an MP3 without ID3 tag: 11 sync bits, a valid layer
    return len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06 != 0


_SIGNATURES: dict[str, tuple[Callable[[bytes], bool], ...]] = {
    "image": (
        lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"),
        lambda head: head.startswith(b"\xff\xd8\xff"),
        lambda head: head[:6] in (b"GIF87a", b"GIF89a"),
        _riff(b"WEBP"),
        lambda head: head.startswith(b"BM") and len(head) >= 14,
    ),
    "audio": (
        _riff(b"WAVE"),
        lambda head: head.startswith(b"ID3"),
        _mpeg_frame,
        lambda head: head.startswith(b"OggS"),
        lambda head: head.startswith(b"fLaC"),
        _iso_media,
    ),
    "video": (
        _iso_media,
        lambda head: head.startswith(b"\x1a\x45\xdf\xa3"),  # Matroska / WebM
        lambda head: head.startswith(b"OggS"),
    ),
}
