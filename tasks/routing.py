from django.urls import path

from tasks.consumers import TaskConsumer

websocket_urlpatterns = [
    path("ws/tasks/<int:task_id>/", TaskConsumer.as_asgi()),
]
