from annotator.api.paths import api_path
from mlserve.api import models_views, views

urlpatterns = [
    *api_path("ml", views.MLBackendListView.as_view(), "ml-list"),
    *api_path("ml/<int:pk>", views.MLBackendDetailView.as_view(), "ml-detail"),
    *api_path(
        "projects/<int:pk>/models", models_views.ModelVersionListView.as_view(), "model-versions"
    ),
    *api_path(
        "projects/<int:pk>/models/<int:version_id>",
        models_views.ModelVersionDetailView.as_view(),
        "model-version-detail",
    ),
    *api_path(
        "projects/<int:pk>/models/<int:version_id>/activate",
        models_views.ModelVersionActivateView.as_view(),
        "model-version-activate",
    ),
    *api_path(
        "projects/<int:pk>/ml-settings", models_views.MLSettingsView.as_view(), "ml-settings"
    ),
]
