from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.views.static import serve

from annotator.models import User
from projects.permissions import effective_role, media_rule, role_allows
from projects.selectors import project_get_for_user


def health(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers and `make run` scripts."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})


def admin_login(request: HttpRequest) -> HttpResponseBase:
    """The admin's sign-in goes to the one sign-in page, whose failed-sign-in throttle
    (allauth's ``login_failed`` rate limit) the admin's own form lacks. Someone already signed
    in who lands here is not staff: a 403, not a redirect loop through the sign-in page."""
    if request.user.is_authenticated:
        raise PermissionDenied("The admin is for staff.")
    query = request.META.get("QUERY_STRING", "")
    return HttpResponseRedirect(reverse("account_login") + (f"?{query}" if query else ""))


@login_required
def media(request: HttpRequest, path: str) -> HttpResponseBase:
    """Local media for the members of the file's project only (projects.permissions'
    ``media_rule``): task media is customer data. (Embedded mode; S3 deployments hand out
    presigned URLs instead.) ``serve`` refuses paths that leave MEDIA_ROOT."""
    user = request.user
    assert isinstance(user, User)
    rule = media_rule(path=path)
    project = project_get_for_user(project_id=rule[0], user=user) if rule else None
    if rule is None or project is None or not role_allows(effective_role(project), rule[1]):
        raise Http404("No such file")
    response = serve(request, path, document_root=str(settings.MEDIA_ROOT))
    kind = response.get("Content-Type", "").split(";")[0].strip().lower()
    if not kind.startswith(_INLINE_MEDIA) or kind in _SCRIPT_TYPES:
        # Anything but plain images, audio and video (an HTML or SVG page, an export) is a
        # download: opened inline from our origin it could run script in the user's session.
        response["Content-Disposition"] = "attachment"
    response["X-Content-Type-Options"] = "nosniff"
    return response


_INLINE_MEDIA = ("image/", "audio/", "video/")
_SCRIPT_TYPES = frozenset({"image/svg+xml"})
