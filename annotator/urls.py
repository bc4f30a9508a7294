from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from annotator.views import health, media
from tasks.views_datamanager import data_manager
from tasks.views_label import label_page

urlpatterns = [
    path("admin/", admin.site.urls),
    # Sign-in, sign-up, email verification, password reset: django-allauth.
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("health", health, name="health"),
    path("api/", include("annotator.api.urls")),
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", media, name="media"),
    path("projects/<int:project_id>/data/", data_manager, name="data-manager"),
    path("projects/<int:project_id>/label/", label_page, name="label"),
    path("projects/<int:project_id>/label/<int:task_id>/", label_page, name="label-task"),
    path("", include("activelearn.urls")),
    path("", include("quality.urls_workflow")),
    path("", include("projects.urls")),
]
