from annotator.api.paths import api_path
from mlserve.api import models_views, protocol, views

urlpatterns = [
    *api_path("ml", views.MLBackendListView.as_view(), "ml-list"),
    *api_path("ml/<int:pk>", views.MLBackendDetailView.as_view(), "ml-detail"),
    *api_path("ml/<int:pk>/train", views.MLBackendTrainView.as_view(), "ml-train"),
    *api_path("ml/<int:pk>/predict", views.MLBackendPredictView.as_view(), "ml-predict"),
    # Our built-in models behind the ML-backend protocol (mlserve.api.protocol).
    *api_path("ml-backend/<int:pk>/health", protocol.ServedHealthView.as_view(), "ml-serve-health"),
    *api_path("ml-backend/<int:pk>/setup", protocol.ServedSetupView.as_view(), "ml-serve-setup"),
    *api_path(
        "ml-backend/<int:pk>/predict", protocol.ServedPredictView.as_view(), "ml-serve-predict"
    ),
    *api_path(
        "ml-backend/<int:pk>/webhook", protocol.ServedWebhookView.as_view(), "ml-serve-webhook"
    ),
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
        "projects/<int:pk>/models/<int:version_id>/retry",
        models_views.ModelVersionRetryView.as_view(),
        "model-version-retry",
    ),
    *api_path(
        "projects/<int:pk>/ml-settings", models_views.MLSettingsView.as_view(), "ml-settings"
    ),
]
