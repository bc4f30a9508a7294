from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.serializers import BaseSerializer

# Largest id or count a database column holds (signed 64-bit): bigger numbers in a request
# are a 400 naming the field, not an overflow deep in the driver.
MAX_INT = 2**63 - 1


def valid_input(
    serializer_class: type[BaseSerializer[Any]], data: Any, **kwargs: Any
) -> dict[str, Any]:
    """Validated data of an input serializer; a 400 naming each bad field otherwise."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def valid_inputs(serializer_class: type[BaseSerializer[Any]], data: Any) -> list[dict[str, Any]]:
    """Validated list input (``many=True``); errors name the item index."""
    serializer = serializer_class(data=data, many=True)
    serializer.is_valid(raise_exception=True)
    return [dict(item) for item in serializer.validated_data]


def query_id(params: Any, name: str, *, required: bool = False) -> int | None:
    """An id from the query string: None when absent, a 400 naming the parameter when it is
    not an id (including numbers no database column can hold)."""
    raw = (params.get(name) or "").strip()
    if not raw:
        if required:
            raise ValidationError({name: [f"give the id: ?{name}=<id>"]})
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_INT:
        raise ValidationError(
            {name: [f"{name} must be an id (a positive integer), got {raw[:40]!r}"]}
        )
    return int(raw)


def query_ids(params: Any, name: str) -> list[int] | None:
    """Comma-separated ids (``?ids=1,2,3``); None when absent."""
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if not all(p.isdigit() and 1 <= int(p) <= MAX_INT for p in parts):
        raise ValidationError({name: [f"{name} must be comma-separated ids"]})
    return [int(p) for p in parts]
