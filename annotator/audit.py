"""The audit trail: one append-only row per change of projects, members, tasks,
annotations, imports, exports, tokens and sign-ins (``AuditEvent``).

Services record their own events with ``audit_record`` inside their transaction, so a
rolled-back write leaves no record. It is one plain INSERT (no ORM compile): the hot writes
(annotation submit, next-task) and the bulk import are SQL too, and model signals would not
see them anyway. Bulk writes record one summary event, never one per row.

Who and from where come from the request being served (``AuditContextMiddleware`` keeps it
in a context variable); a service may name the actor itself (Celery jobs, commands).
Nothing here updates or deletes a row; on PostgreSQL a trigger refuses both
(migration ``annotator.0003``).
"""

from __future__ import annotations

import contextvars
import ipaddress
from collections.abc import Callable
from typing import Any

import orjson
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "audit_request", default=None
)

COLUMNS = (
    "created_at",
    "actor_id",
    "actor_username",
    "ip",
    "action",
    "object_type",
    "object_id",
    "organization_id",
    "project_id",
    "before",
    "after",
    "detail",
)
# PostgreSQL: explicit casts, so the same values bind whether the driver sends them as
# text or typed; SQLite stores the JSON text as JSONField does.
_CASTS_PG = ("", "::bigint", "", "::inet", "", "", "::bigint", "::bigint", "::bigint")
_JSON_PG = "::jsonb"


def insert_sql() -> str:
    """``INSERT INTO annotator_audit_event (...) VALUES (...)`` for the current database."""
    pg = connection.vendor == "postgresql"
    marks = [f"%s{c}" if pg else "%s" for c in _CASTS_PG]
    marks += [f"%s{_JSON_PG}" if pg else "%s"] * 3
    return f"INSERT INTO annotator_audit_event ({', '.join(COLUMNS)}) VALUES ({', '.join(marks)})"  # nosec B608 # noqa: S608 (constants)


def as_json(value: Any) -> str | None:
    if value is None:
        return None
    return orjson.dumps(value, default=str).decode()


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address: REMOTE_ADDR, or behind our own proxy (``BEHIND_PROXY``) the
    last hop it appended to X-Forwarded-For (earlier hops are the client's to invent)."""
    ip = request.META.get("REMOTE_ADDR") or None
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            ip = hops[-1]
    if ip is None:
        return None
    try:
        # The column is an address (inet on PostgreSQL): anything else would fail the write.
        return str(ipaddress.ip_address(ip.strip("[]")))
    except ValueError:
        return None


def _context_actor() -> Any:
    request = _request.get()
    user = getattr(request, "user", None) if request is not None else None
    return user if user is not None and user.is_authenticated else None


def audit_params(
    *,
    action: str,
    actor: Any = None,
    object_type: str = "",
    object_id: int | None = None,
    organization_id: int | None = None,
    project_id: int | None = None,
    before: Any = None,
    after: Any = None,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> list[Any]:
    """The values of one event in ``COLUMNS`` order, ready for ``insert_sql()``."""
    if actor is None:
        actor = _context_actor()
    request = _request.get()
    if ip is None and request is not None:
        ip = client_ip(request)
    return [
        connection.ops.adapt_datetimefield_value(timezone.now()),
        actor.pk if actor is not None else None,
        actor.get_username()[:150] if actor is not None else "",
        ip,
        action,
        object_type,
        object_id,
        organization_id,
        project_id,
        as_json(before),
        as_json(after),
        as_json(detail or {}),
    ]


def audit_record(
    *,
    action: str,
    actor: Any = None,
    object_type: str = "",
    object_id: int | None = None,
    organization_id: int | None = None,
    project_id: int | None = None,
    before: Any = None,
    after: Any = None,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> None:
    """Append one event. ``actor`` defaults to the signed-in user of the current request,
    ``ip`` to its address; ``before``/``after`` are the changed values (JSON)."""
    params = audit_params(
        action=action,
        actor=actor,
        object_type=object_type,
        object_id=object_id,
        organization_id=organization_id,
        project_id=project_id,
        before=before,
        after=after,
        detail=detail,
        ip=ip,
    )
    with connection.cursor() as cursor:
        cursor.execute(insert_sql(), params)


def changed_fields(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The keys whose values differ, as (before, after) dicts."""
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


class AuditContextMiddleware:
    """Keep the request in a context variable for ``audit_record`` (actor and address)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)
