"""uvicorn protocol with TCP_NODELAY on every connection.

With ``--workers N`` uvicorn hands the listening socket to spawned processes, where it comes
back with ``proto == 0``; asyncio then skips TCP_NODELAY on accepted connections, and each
keep-alive response (headers and body written separately) waits ~40 ms for the client's
delayed ACK. Measured here: /health 48 ms with 2 workers against 6 ms with 1.

Run ``uvicorn --http annotator.serve:NoDelayHttpToolsProtocol --loop uvloop``: httptools
(a C parser) and uvloop gave 30 % more annotations per second than h11 on asyncio in
bench/api_bench.py (8 annotators, PostgreSQL, same run). The h11 class stays for platforms
without those wheels.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def _no_delay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        _no_delay(transport)
        super().connection_made(transport)


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        _no_delay(transport)
        super().connection_made(transport)
