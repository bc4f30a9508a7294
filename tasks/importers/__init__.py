"""Reading uploads and URL lists into task items; see ``formats``, ``media`` and ``urls``."""

from tasks.importers.errors import ImportFormatError
from tasks.importers.formats import CSV_FIELD_LIMIT, SUPPORTED, TASK_FORMATS, iter_items
from tasks.importers.media import (
    MEDIA_EXTENSIONS,
    MEDIA_KINDS,
    SCRIPT_EXTENSIONS,
    media_kind,
    safe_media_name,
    sniff_media,
)
from tasks.importers.streams import DEFAULT_MAX_DECOMPRESSED_BYTES
from tasks.importers.urls import iter_url_items

__all__ = [
    "CSV_FIELD_LIMIT",
    "DEFAULT_MAX_DECOMPRESSED_BYTES",
    "MEDIA_EXTENSIONS",
    "MEDIA_KINDS",
    "SCRIPT_EXTENSIONS",
    "SUPPORTED",
    "TASK_FORMATS",
    "ImportFormatError",
    "iter_items",
    "iter_url_items",
    "media_kind",
    "safe_media_name",
    "sniff_media",
]
