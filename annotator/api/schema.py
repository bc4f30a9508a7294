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


def document_media_type_errors(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Every operation that reads a body answers 415 to a content type its parsers do not
    take (DRF refuses it before the view runs): say so on each."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation["responses"].setdefault(
                    "415", {"description": "Unsupported media type for the request body"}
                )
    return result
