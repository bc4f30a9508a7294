from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from annotator.api import audit, views
from annotator.api.paths import api_path
from tasks.api.urls import hot_urlpatterns

urlpatterns = [
    *hot_urlpatterns,
    *api_path("schema", SpectacularAPIView.as_view(), "api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    *api_path("docs", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), "api-docs"),
    *api_path("version", views.VersionView.as_view(), "version"),
    *api_path("current-user", views.CurrentUserView.as_view(), "current-user"),
    *api_path("current-user/whoami", views.CurrentUserView.as_view(), "current-user-whoami"),
    *api_path("current-user/token", views.CurrentUserTokenView.as_view(), "current-user-token"),
    *api_path(
        "current-user/reset-token",
        views.CurrentUserResetTokenView.as_view(),
        "current-user-reset-token",
    ),
    *api_path("current-user/tokens", views.ApiTokenListView.as_view(), "api-token-list"),
    *api_path(
        "current-user/tokens/<int:pk>", views.ApiTokenDetailView.as_view(), "api-token-detail"
    ),
    *api_path(
        "current-user/tokens/<int:pk>/rotate",
        views.ApiTokenRotateView.as_view(),
        "api-token-rotate",
    ),
    *api_path("projects/<int:pk>/audit", audit.ProjectAuditView.as_view(), "project-audit"),
    *api_path(
        "projects/<int:pk>/audit/export",
        audit.ProjectAuditExportView.as_view(),
        "project-audit-export",
    ),
    *api_path(
        "organizations/<int:pk>/audit",
        audit.OrganizationAuditView.as_view(),
        "organization-audit",
    ),
    *api_path(
        "organizations/<int:pk>/audit/export",
        audit.OrganizationAuditExportView.as_view(),
        "organization-audit-export",
    ),
    path("", include("accounts.api.urls")),
    path("", include("projects.api.urls")),
    path("", include("tasks.api.urls")),
    path("", include("mlserve.api.urls")),
    path("", include("activelearn.api.urls")),
    path("", include("quality.api.urls")),
    # Last: anything else under /api/ is a JSON 404.
    re_path(r"^.*$", views.NotFoundView.as_view(), name="api-not-found"),
]
