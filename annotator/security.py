"""Two response-wide guards: an enforcing Content-Security-Policy on every response, and
query parameters that would follow relations (Django lookups) refused on the API."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


class ContentSecurityPolicyMiddleware:
    """settings.CONTENT_SECURITY_POLICY on every response that does not set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


# Parameters whose value names a field to sort by.
_ORDER_PARAMETERS = frozenset({"ordering", "order_by", "order", "sort"})


class LookupParameterMiddleware:
    """``?completed_by__password__startswith=...`` or ``?ordering=annotations__x``: no API
    filter or sort follows relations, so such a parameter is a probe (or a client bug).
    It gets a 400 naming it rather than being silently ignored."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            for name, values in request.GET.lists():
                if "__" in name or (name in _ORDER_PARAMETERS and any("__" in v for v in values)):
                    return JsonResponse(
                        {
                            "status_code": 400,
                            "detail": "Validation error",
                            "validation_errors": {
                                name: ["filters and sorting cannot follow relations ('__')"]
                            },
                        },
                        status=400,
                    )
        return self.get_response(request)
