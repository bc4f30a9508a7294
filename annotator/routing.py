"""Websocket routes of every app, gathered in one list for the ASGI router."""

from projects.routing import websocket_urlpatterns as project_routes

websocket_urlpatterns = [*project_routes]
