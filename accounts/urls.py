from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("invites/<str:key>/", views.invite, name="invite"),
    path("projects/<int:project_id>/invites/", views.project_invites, name="project-invites"),
    path("projects/<int:project_id>/audit/", views.project_audit, name="project-audit"),
    path("account/tokens/", views.tokens, name="tokens"),
]
