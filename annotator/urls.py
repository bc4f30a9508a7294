from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from annotator.observability import live, metrics, ready
from annotator.views import admin_login, health, media
from tasks.views_datamanager import data_manager
from tasks.views_label import label_page

# A database outage raised outside a view is a 503 too (annotator/dbguard.py).
handler500 = "annotator.dbguard.server_error"

urlpatterns = [
    # One sign-in page for everyone: the admin's own form would check passwords without
    # allauth's failed-sign-in throttle (ACCOUNT_RATE_LIMITS "login_failed").
    path("admin/login/", admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    # Sign-in, sign-up, email verification, password reset: django-allauth.
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("health", health, name="health"),
    path("health/live", live, name="health-live"),
    path("health/ready", ready, name="health-ready"),
    path("metrics", metrics, name="metrics"),
    path("api/", include("annotator.api.urls")),
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", media, name="media"),
    path("projects/<int:project_id>/data/", data_manager, name="data-manager"),
    path("projects/<int:project_id>/label/", label_page, name="label"),
    path("projects/<int:project_id>/label/<int:task_id>/", label_page, name="label-task"),
    path("", include("activelearn.urls")),
    path("", include("quality.urls")),
    path("", include("projects.urls")),
]
