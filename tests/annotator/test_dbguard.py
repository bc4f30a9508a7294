"""handler500 (annotator.dbguard.server_error): the database errors that a middleware raises,
out of the views' reach, are 503s too; anything else stays Django's 500 page. The outage
itself, end to end, is in tests/realtime/test_postgres_outage.py and test_sqlite_outage.py."""

from __future__ import annotations

import json

from django.db import InterfaceError, OperationalError

from annotator.dbguard import server_error


def _answer_while_handling(exc: Exception, request):
    try:
        raise exc
    except Exception:
        return server_error(request)


def test_a_database_error_outside_a_view_is_a_json_503_for_the_api(rf):
    response = _answer_while_handling(
        OperationalError("server closed the connection"), rf.get("/api/projects")
    )
    assert response.status_code == 503
    assert response["Retry-After"]
    assert json.loads(response.content)["code"] == "database_unavailable"


def test_a_broken_connection_outside_a_view_is_a_plain_503_page(rf):
    request = rf.get("/projects/", HTTP_ACCEPT="text/html")
    response = _answer_while_handling(InterfaceError("connection already closed"), request)
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert b"Temporarily unavailable" in response.content


def test_other_errors_stay_a_500(rf):
    response = _answer_while_handling(ValueError("a bug"), rf.get("/projects/"))
    assert response.status_code == 500
