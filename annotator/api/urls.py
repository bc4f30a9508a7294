from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from annotator.api import views
from annotator.api.paths import api_path

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    *api_path("current-user", views.CurrentUserView.as_view(), "current-user"),
    *api_path("current-user/whoami", views.CurrentUserView.as_view(), "current-user-whoami"),
    *api_path("current-user/token", views.CurrentUserTokenView.as_view(), "current-user-token"),
    *api_path(
        "current-user/reset-token",
        views.CurrentUserResetTokenView.as_view(),
        "current-user-reset-token",
    ),
    path("", include("projects.api.urls")),
    path("", include("tasks.api.urls")),
    path("", include("mlserve.api.urls")),
]
