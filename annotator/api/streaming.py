"""Streaming responses that keep memory flat under ASGI as under WSGI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, StreamingHttpResponse

CHUNKS_PER_HOP = 16


async def _pull_async(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Run a sync generator (which reads the database) on the sync thread a few chunks at a
    time. Django would otherwise consume a sync iterator whole under ASGI (``list()`` of it)
    before sending a byte, holding the entire export in memory."""

    def pull() -> list[bytes]:
        batch: list[bytes] = []
        for chunk in chunks:
            batch.append(chunk)
            if len(batch) >= CHUNKS_PER_HOP:
                break
        return batch

    while batch := await sync_to_async(pull, thread_sensitive=True)():
        for chunk in batch:
            yield chunk


def streaming_response(
    request: HttpRequest, chunks: Iterable[bytes], content_type: str
) -> StreamingHttpResponse:
    iterator = iter(chunks)
    if isinstance(request, ASGIRequest):
        return StreamingHttpResponse(_pull_async(iterator), content_type=content_type)
    return StreamingHttpResponse(iterator, content_type=content_type)
