from annotator.api.paths import api_path
from projects.api import views, webhooks

urlpatterns = [
    *api_path("organizations", views.OrganizationListView.as_view(), "organization-list"),
    *api_path(
        "organizations/<int:pk>", views.OrganizationDetailView.as_view(), "organization-detail"
    ),
    *api_path("projects", views.ProjectListView.as_view(), "project-list"),
    *api_path("projects/validate", views.ConfigValidateView.as_view(), "config-validate"),
    *api_path("projects/<int:pk>", views.ProjectDetailView.as_view(), "project-detail"),
    *api_path(
        "projects/<int:pk>/validate", views.ProjectConfigValidateView.as_view(), "project-validate"
    ),
    *api_path("projects/<int:pk>/members", views.MemberListView.as_view(), "project-members"),
    *api_path(
        "projects/<int:pk>/members/<int:user_id>",
        views.MemberDetailView.as_view(),
        "project-member-detail",
    ),
    *api_path("webhooks", webhooks.WebhookListView.as_view(), "webhook-list"),
    *api_path("webhooks/info", webhooks.WebhookInfoView.as_view(), "webhook-info"),
    *api_path("webhooks/<int:pk>", webhooks.WebhookDetailView.as_view(), "webhook-detail"),
    *api_path(
        "webhooks/<int:pk>/deliveries",
        webhooks.WebhookDeliveryListView.as_view(),
        "webhook-deliveries",
    ),
    *api_path(
        "webhooks/<int:pk>/deliveries/<int:delivery>/redeliver",
        webhooks.WebhookRedeliverView.as_view(),
        "webhook-redeliver",
    ),
]
