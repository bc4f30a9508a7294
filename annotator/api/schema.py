"""OpenAPI hooks."""

from __future__ import annotations

from typing import Any


def drop_slashless_duplicates(
    endpoints: list[tuple[Any, ...]], **kwargs: Any
) -> list[tuple[Any, ...]]:
    """Every API path answers with and without the trailing slash; document the slash form
    once (Label Studio's spelling) instead of every operation twice."""
    paths = {endpoint[0] for endpoint in endpoints}
    return [e for e in endpoints if e[0].endswith("/") or f"{e[0]}/" not in paths]
