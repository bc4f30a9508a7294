"""Pagination for lists: page numbers for small resources, keyset for tasks."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination


class Pages(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


def paginated(item: type[serializers.BaseSerializer], name: str | None = None) -> Any:
    """The documented shape of a `Pages` answer: `{count, next, previous, results}`."""
    return inline_serializer(
        name=name or f"Paginated{item.__name__}List",
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item(many=True),
        },
    )
