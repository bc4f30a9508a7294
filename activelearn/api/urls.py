from activelearn.api import views
from annotator.api.paths import api_path

urlpatterns = [
    *api_path("projects/<int:pk>/queue", views.QueueView.as_view(), "queue"),
    *api_path("projects/<int:pk>/queue/refresh", views.QueueRefreshView.as_view(), "queue-refresh"),
    *api_path("projects/<int:pk>/learning", views.LearningView.as_view(), "learning"),
]
