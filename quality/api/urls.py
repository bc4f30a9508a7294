from annotator.api.paths import api_path
from quality.api import views

urlpatterns = [
    *api_path(
        "projects/<int:pk>/productivity", views.ProductivityView.as_view(), "project-productivity"
    ),
]
