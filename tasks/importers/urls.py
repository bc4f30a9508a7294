"""Task items from a list of URLs: media URLs become items as they are, task files are fetched
through the guarded outbound client and parsed like uploads."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from annotator.outbound import OutboundError, outbound_get, redact_url
from tasks.importers.errors import ImportFormatError
from tasks.importers.formats import iter_items
from tasks.importers.media import media_kind

DEFAULT_MAX_DOWNLOAD_BYTES = 50 * 2**20


def iter_url_items(
    urls: Iterable[str],
    *,
    allow_private: bool,
    max_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
    timeout: float = 30.0,
) -> Iterator[Any]:
    """Items for each URL in turn. A media URL yields ``{kind: url}`` without a download (the
    annotator's browser loads it); any other is fetched, at most ``max_bytes``, and read by the
    extension of its path, or its Content-Type when the path has none."""
    for raw in urls:
        url = raw.strip()
        if not url:
            continue
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            raise ImportFormatError(
                "only http and https URLs can be imported", filename=redact_url(url)
            )
        name = PurePosixPath(unquote(parts.path)).name
        kind = media_kind(name)
        if kind is not None:
            yield {kind: url}
            continue
        yield from _fetched_items(
            url, name, allow_private=allow_private, max_bytes=max_bytes, timeout=timeout
        )


def _fetched_items(
    url: str, name: str, *, allow_private: bool, max_bytes: int, timeout: float
) -> Iterator[Any]:
    shown = redact_url(url)
    try:
        response = outbound_get(
            url, allow_private=allow_private, max_bytes=max_bytes, timeout=timeout
        )
    except OutboundError as exc:
        raise ImportFormatError(exc.reason, filename=exc.url) from exc
    if response.status != 200:
        raise ImportFormatError(f"the server answered HTTP {response.status}", filename=shown)
    try:
        yield from iter_items(
            filename=name,
            stream=io.BytesIO(response.content),
            content_type=response.headers.get("Content-Type"),
        )
    except ImportFormatError as exc:
        raise exc.with_filename(shown) from None
