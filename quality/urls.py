from django.urls import path

from quality import views

app_name = "quality"
urlpatterns = [
    path("projects/<int:project_id>/arbitration/", views.arbitration_page, name="arbitration"),
]
