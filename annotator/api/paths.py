"""Routes that answer with and without the trailing slash: Label Studio's clients use both."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path, register_converter


class IdConverter:
    """Like ``int``, but at most 18 digits: a bigger id cannot exist in a 64-bit column, and
    passing one on to the database overflows the driver (a 500) instead of a 404."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")


def api_path(route: str, view: Any, name: str) -> list[URLPattern]:
    """``*api_path("projects/<int:pk>", view, "project")`` matches ``projects/1`` and ``projects/1/``;
    ``reverse(name)`` gives the form without the slash. ``<int:...>`` parameters are ids."""
    route = route.strip("/").replace("<int:", "<id:")
    return [path(route, view, name=name), path(f"{route}/", view)]
