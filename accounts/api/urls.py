from accounts.api import views
from annotator.api.paths import api_path

urlpatterns = [
    *api_path(
        "projects/<int:pk>/invites", views.ProjectInviteListView.as_view(), "project-invites"
    ),
    *api_path(
        "projects/<int:pk>/invites/<int:invite_id>",
        views.ProjectInviteDetailView.as_view(),
        "project-invite-detail",
    ),
    *api_path(
        "organizations/<int:pk>/invites",
        views.OrganizationInviteListView.as_view(),
        "organization-invites",
    ),
    *api_path(
        "organizations/<int:pk>/invites/<int:invite_id>",
        views.OrganizationInviteDetailView.as_view(),
        "organization-invite-detail",
    ),
    *api_path("invites/<str:key>/accept", views.InviteAcceptView.as_view(), "invite-accept"),
]
