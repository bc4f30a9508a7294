"""One error shape for the whole API (Label Studio's, so its clients read it):

``{"status_code": 400, "detail": "...", "validation_errors": {"field": ["problem", ...]}}``
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from tasks.api.serializers import AnnotationOut, DraftOut
from tasks.models import Annotation
from tasks.services import StaleVersion


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE."


def _as_dict(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return detail
    if isinstance(detail, list):
        return {"non_field_errors": detail}
    return {"non_field_errors": [detail]}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        errors = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(errors)
    elif isinstance(exc, RequestDataTooBig):
        # Django's own answer would be an HTML 400 page.
        exc = BodyTooLarge()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, StaleVersion):
        out = AnnotationOut if isinstance(exc.current, Annotation) else DraftOut
        return Response(
            {
                "status_code": status.HTTP_409_CONFLICT,
                "detail": getattr(exc, "detail", None)
                or f"Stale version: this is now at version {exc.current.version}.",
                "reason": getattr(exc, "reason", "stale"),
                "current": out(exc.current).data,
            },
            status=status.HTTP_409_CONFLICT,
        )
    response = exception_handler(exc, context)
    if response is None:
        return None
    body: dict[str, Any] = {"status_code": response.status_code}
    if isinstance(exc, exceptions.ValidationError):
        body["detail"] = "Validation error"
        body["validation_errors"] = _as_dict(exc.detail)
    else:
        detail = response.data.get("detail") if isinstance(response.data, dict) else response.data
        body["detail"] = str(detail)
    response.data = body
    return response
