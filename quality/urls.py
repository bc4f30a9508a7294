from django.urls import path

from quality import views, views_workflow

app_name = "quality"
urlpatterns = [
    path("projects/<int:project_id>/arbitration/", views.arbitration_page, name="arbitration"),
    path("projects/<int:project_id>/review/", views_workflow.review_page, name="review"),
    path("projects/<int:project_id>/dashboard/", views_workflow.dashboard_page, name="dashboard"),
]
