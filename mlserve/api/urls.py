from annotator.api.paths import api_path
from mlserve.api import views

urlpatterns = [
    *api_path("ml", views.MLBackendListView.as_view(), "ml-list"),
    *api_path("ml/<int:pk>", views.MLBackendDetailView.as_view(), "ml-detail"),
]
