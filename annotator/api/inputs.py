from __future__ import annotations

from typing import Any

from rest_framework.serializers import BaseSerializer


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
