from annotator.api.paths import api_path
from quality.api import agreement, views, views_workflow

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
    *api_path(
        "annotations/<int:pk>/ground-truth",
        views_workflow.GroundTruthView.as_view(),
        "annotation-ground-truth",
    ),
    *api_path(
        "annotations/<int:pk>/review", views_workflow.ReviewView.as_view(), "annotation-review"
    ),
    *api_path(
        "projects/<int:pk>/review-queue",
        views_workflow.ReviewQueueView.as_view(),
        "project-review-queue",
    ),
    *api_path(
        "projects/<int:pk>/routing",
        views_workflow.RoutingRefreshView.as_view(),
        "project-routing",
    ),
    *api_path(
        "projects/<int:pk>/dashboard",
        views_workflow.ProjectDashboardView.as_view(),
        "project-dashboard",
    ),
    *api_path(
        "projects/<int:pk>/dashboard/annotators/<int:user_id>",
        views_workflow.AnnotatorDashboardView.as_view(),
        "project-dashboard-annotator",
    ),
    *api_path(
        "projects/<int:pk>/dashboard/csv",
        views_workflow.DashboardCsvView.as_view(),
        "project-dashboard-csv",
    ),
]
