"""ASGI entry point: HTTP through Django's WSGI handler on a thread pool, websockets through
Channels.

Every view is synchronous. Under Django's own ASGI handler each request crosses from the
event loop to a thread and back once per middleware (about 30 hops) and all sync views of a
process share ONE thread: /health took 9 ms there against 0.7 ms for the same view in-process
(measured on the 2-core machine class). a2wsgi runs the whole WSGI request on one pool
thread, streams the request body into it and the response out of it with back-pressure, so
the same request costs 2 to 3 ms, and a request waiting on the database no longer blocks the
others of its process. ``HTTP_THREADS`` sizes the pool; keep it at or under ``DB_POOL_MAX``.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")
# Django must be set up before the routing imports models.
django_wsgi_app = get_wsgi_application()
# Import every view now rather than on each worker process's first request (about 3 s here:
# DRF, drf-spectacular, the exporters), which would otherwise land on a user.
get_resolver().url_patterns  # noqa: B018

from a2wsgi import WSGIMiddleware  # noqa: E402
from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, Scope  # noqa: E402
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from annotator.dbguard import WebsocketDatabaseGuard  # noqa: E402
from annotator.realtime import serve_loop_remember  # noqa: E402
from annotator.routing import websocket_urlpatterns  # noqa: E402
from annotator.wsauth import TokenAuthMiddleware  # noqa: E402

_routes = ProtocolTypeRouter(
    {
        # django-stubs types the handler as returning the response; it is the WSGI iterable.
        "http": WSGIMiddleware(django_wsgi_app, workers=settings.HTTP_THREADS),  # type: ignore[arg-type]
        "websocket": WebsocketDatabaseGuard(
            AllowedHostsOriginValidator(
                AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(websocket_urlpatterns)))
            )
        ),
    }
)


# The ~400k objects of the loaded code live as long as the process: out of the collector's
# reach, a full collection no longer walks them. It did every few hundred requests, and it
# stopped the event loop (HTTP and every websocket of the process) for 0.3 to 0.7 s here:
# the slow tail of bench/ws_bench.py.
gc.freeze()


async def application(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    serve_loop_remember()  # websocket events from request threads are sent on this loop
    await _routes(scope, receive, send)
