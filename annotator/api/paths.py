"""Routes that answer with and without the trailing slash: Label Studio's clients use both."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path


def api_path(route: str, view: Any, name: str) -> list[URLPattern]:
    """``*api_path("projects/<int:pk>", view, "project")`` matches ``projects/1`` and ``projects/1/``;
    ``reverse(name)`` gives the form without the slash."""
    route = route.strip("/")
    return [path(route, view, name=name), path(f"{route}/", view)]
