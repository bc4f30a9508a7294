from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.views.static import serve


def health(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers and `make run` scripts."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})


@login_required
def media(request: HttpRequest, path: str) -> HttpResponseBase:
    """Local media for signed-in users only: task media is customer data. (Embedded mode;
    S3 deployments hand out presigned URLs instead.) ``serve`` refuses paths that leave
    MEDIA_ROOT."""
    return serve(request, path, document_root=str(settings.MEDIA_ROOT))
