from __future__ import annotations

from django.db import models

from projects.models import Project


class MLBackendState(models.TextChoices):
    CONNECTED = "CO", "Connected"
    DISCONNECTED = "DI", "Disconnected"
    ERROR = "ER", "Error"
    TRAINING = "TR", "Training"
    PREDICTING = "PR", "Predicting"


class MLBackendAuth(models.TextChoices):
    NONE = "NONE", "None"
    BASIC_AUTH = "BASIC_AUTH", "Basic auth"


class MLBackend(models.Model):
    """An external model server speaking Label Studio's ML-backend protocol
    (/health, /setup, /predict, /webhook). The calls come with the ML issue."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="ml_backends")
    url = models.URLField(max_length=500)
    title = models.CharField(max_length=200, blank=True, default="")
    description = models.TextField(blank=True, default="")
    is_interactive = models.BooleanField(default=False)
    timeout = models.FloatField(default=100.0)
    auth_method = models.CharField(
        max_length=16, choices=MLBackendAuth.choices, default=MLBackendAuth.NONE
    )
    basic_auth_user = models.CharField(max_length=200, blank=True, default="")
    basic_auth_pass = models.CharField(max_length=200, blank=True, default="")
    state = models.CharField(
        max_length=2, choices=MLBackendState.choices, default=MLBackendState.DISCONNECTED
    )
    error_message = models.TextField(blank=True, default="")
    model_version = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(timeout__gt=0), name="mlbackend_timeout_gt_0"
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.url
