"""Websocket routes of every app, gathered in one list for the ASGI router."""

from projects.routing import websocket_urlpatterns as project_routes
from tasks.routing import websocket_urlpatterns as task_routes

websocket_urlpatterns = [*project_routes, *task_routes]
