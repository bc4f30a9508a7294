"""The database is away (PostgreSQL restarting, unreachable, its pool exhausted; SQLite's
file gone): a clean answer instead of a 500 or a hang, and service again as soon as it is
back, without restarting the process.

- API requests (and /health): 503 with ``{"status_code": 503, "detail": ..., "code":
  "database_unavailable"}`` and ``Retry-After``; pages: a plain 503 page (no template: a
  template's context processors would ask the database for the user again).
- Views raise into ``DatabaseUnavailableMiddleware.process_exception``; what a middleware
  raises (a session saved on the way out) never reaches it and goes to ``handler500``
  (``server_error`` below), which still sees the exception being handled.
- Websockets: ``WebsocketDatabaseGuard`` closes the socket with 1013 (try again later, as
  when Redis is down) instead of an HTTP 500 on the handshake or a 1011 mid-way; the page
  reconnects and catches up (projects.consumers).

How long a request may wait and how the pool drops the connections a restart killed:
annotator/settings.py, ``_database()``. /health/live never touches the database;
/health/ready reports it (annotator/observability.py).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from asgiref.typing import (
    ASGIReceiveCallable,
    ASGIReceiveEvent,
    ASGISendCallable,
    ASGISendEvent,
)
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_S = 5
CODE = "database_unavailable"
DETAIL = "the database is unavailable, retry shortly"
WS_TRY_AGAIN_LATER = 1013

_PAGE = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
    "<title>Temporarily unavailable</title></head><body>"
    "<h1>Temporarily unavailable</h1>"
    "<p>The database cannot be reached. Your saved work is safe; retry in a few seconds.</p>"
    "</body></html>"
)


def _wants_json(request: HttpRequest) -> bool:
    if request.path.startswith(("/api/", "/health")):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def unavailable_response(request: HttpRequest) -> HttpResponse:
    response: HttpResponse
    if _wants_json(request):
        body = {"status_code": 503, "detail": DETAIL, "code": CODE}
        response = JsonResponse(body, status=503)
    else:
        response = HttpResponse(_PAGE, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_S)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """A view that hit an unreachable database answers 503 (see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_ERRORS):
            return None
        logger.warning("database unavailable on %s: %s", request.path, exception)
        return unavailable_response(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: Django calls it inside its ``except`` block, so the exception is at
    hand; a database outage raised by a middleware is a 503 too."""
    if isinstance(sys.exc_info()[1], DATABASE_ERRORS):
        return unavailable_response(request)
    return defaults.server_error(request)


class WebsocketDatabaseGuard:
    """ASGI middleware around the websocket stack: a database error anywhere in it (token or
    session sign-in, the consumer's checks, a heartbeat) closes the socket with 1013."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(
        self, scope: dict[str, Any], receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] != "websocket":
            await self.inner(scope, receive, send)
            return
        state = {"accepted": False, "closed": False}

        async def received() -> ASGIReceiveEvent:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                state["closed"] = True
            return message

        async def sent(message: ASGISendEvent) -> None:
            if message["type"] == "websocket.accept":
                state["accepted"] = True
            elif message["type"] == "websocket.close":
                state["closed"] = True
            await send(message)

        try:
            await self.inner(scope, received, sent)
        except DATABASE_ERRORS as exc:
            logger.warning("database unavailable on websocket %s: %s", scope.get("path"), exc)
            if state["closed"]:
                return
            if not state["accepted"]:
                # Accepted first so that the page reads the close code (a refused handshake
                # is a bare 1006 in a browser).
                await send({"type": "websocket.accept", "subprotocol": None, "headers": []})
            await send({"type": "websocket.close", "code": WS_TRY_AGAIN_LATER, "reason": CODE})
