from annotator.api.paths import api_path
from quality.api import agreement, views

urlpatterns = [
    *api_path(
        "projects/<int:pk>/productivity", views.ProductivityView.as_view(), "project-productivity"
    ),
    *api_path("projects/<int:pk>/agreement", agreement.AgreementView.as_view(), "agreement"),
    *api_path(
        "projects/<int:pk>/agreement/refresh",
        agreement.AgreementRefreshView.as_view(),
        "agreement-refresh",
    ),
    *api_path(
        "projects/<int:pk>/quality-settings",
        agreement.QualitySettingsView.as_view(),
        "quality-settings",
    ),
    *api_path(
        "projects/<int:pk>/arbitration", agreement.ArbitrationListView.as_view(), "arbitration"
    ),
    *api_path(
        "projects/<int:pk>/arbitration/<int:task_id>",
        agreement.ArbitrationResolveView.as_view(),
        "arbitration-resolve",
    ),
]
