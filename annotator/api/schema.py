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


def document_auth_errors(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Every operation that wants credentials can answer 401 (none sent, a bad or revoked
    token): say so on each, also where a view lists only its success (API fuzzing checks
    that every status we send is documented)."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if operation.get("security") == [{}]:
                continue  # public: anonymous callers are welcome
            operation["responses"].setdefault("401", {"description": "Missing or bad credentials"})
    return result
