from django.urls import path

from activelearn import views

app_name = "activelearn"
urlpatterns = [
    path("projects/<int:project_id>/learning/", views.learning_page, name="learning"),
]
