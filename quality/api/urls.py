from annotator.api.paths import api_path
from quality.api import views, views_workflow

urlpatterns = [
    *api_path(
        "projects/<int:pk>/productivity", views.ProductivityView.as_view(), "project-productivity"
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
