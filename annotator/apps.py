from typing import Any

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in, user_login_failed


class AnnotatorConfig(AppConfig):
    name = "annotator"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # Times every Celery job through Celery's signals, in web and worker processes alike.
        import annotator.observability  # noqa: F401

        # Sign-ins happen inside Django's and allauth's views (and the admin's): their
        # signals are the one place that sees them all.
        user_logged_in.connect(_audit_login, dispatch_uid="audit_login")
        user_login_failed.connect(_audit_login_failed, dispatch_uid="audit_login_failed")


def _audit_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from annotator.audit import audit_record, client_ip

    audit_record(
        action="auth.login",
        actor=user,
        object_type="user",
        object_id=user.pk,
        ip=client_ip(request) if request is not None else None,
    )


def _audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    from annotator.audit import audit_record, client_ip

    # Django masks secret-looking keys; what is left names the account tried.
    login = credentials.get("username") or credentials.get("email") or ""
    audit_record(
        action="auth.login_failed",
        object_type="user",
        detail={"login": str(login)[:150]},
        ip=client_ip(request) if request is not None else None,
    )
