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


class ModelKind(models.TextChoices):
    INTENT = "intent", "Intent classifier"
    ENTITIES = "entities", "Entity recogniser"


class ModelStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    TRAINING = "training", "Training"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class ModelVersion(models.Model):
    """One trained (or training) built-in model of a project's control.

    ``name`` is what predictions carry as ``model_version`` (Label Studio's field). At most
    one version per (project, control) is active: the one whose predictions are pre-filled."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="model_versions")
    control = models.CharField(max_length=200)  # the config's control name (from_name)
    kind = models.CharField(max_length=16, choices=ModelKind.choices)
    number = models.PositiveIntegerField()  # 1, 2, ... per (project, control)
    name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=16, choices=ModelStatus.choices, default=ModelStatus.QUEUED
    )
    progress = models.FloatField(default=0.0)
    encoder = models.CharField(max_length=100, blank=True, default="")
    train_size = models.PositiveIntegerField(default=0)
    validation_size = models.PositiveIntegerField(default=0)
    # accuracy, macro_f1, per-class report, classes; for the active version at promotion time
    # also "compared_with" (its score on the same validation split).
    metrics = models.JSONField(default=dict, blank=True)
    artifact = models.CharField(max_length=500, blank=True, default="")
    is_active = models.BooleanField(default=False)
    promotion = models.TextField(blank=True, default="")  # why it was (not) promoted
    error = models.TextField(blank=True, default="")
    train_seconds = models.FloatField(null=True, blank=True)
    # The newest annotation id it saw: the retrain trigger counts the ones after it.
    annotations_seen = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Written by the training worker (annotator/jobs_runtime.py): a stale one means it died.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "control", "number"], name="model_version_number_unique"
            ),
            models.UniqueConstraint(fields=["project", "name"], name="model_version_name_unique"),
            models.UniqueConstraint(
                fields=["project", "control"],
                condition=models.Q(is_active=True),
                name="model_version_one_active",
            ),
            models.CheckConstraint(
                condition=models.Q(progress__gte=0) & models.Q(progress__lte=1),
                name="model_version_progress_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class TaskEmbedding(models.Model):
    """A task's text embedded once per encoder (float32 bytes), reused by every training run,
    prediction and similarity search."""

    task = models.ForeignKey(
        "tasks.Task", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    encoder = models.CharField(max_length=100)
    vector = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "encoder"], name="task_embedding_unique")
        ]

    def __str__(self) -> str:
        return f"{self.encoder} embedding of task {self.task_id}"


class PredictionProbabilities(models.Model):
    """The full class-probability vector behind a built-in model's prediction (float32 bytes,
    in the order of its version's ``metrics["classes"]``), for active learning."""

    prediction = models.OneToOneField(
        "tasks.Prediction", on_delete=models.CASCADE, related_name="probabilities"
    )
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    probabilities = models.BinaryField()

    def __str__(self) -> str:
        return f"Probabilities of prediction {self.prediction_id}"


class FinetuneMode(models.TextChoices):
    OFF = "off", "Off: a logistic head on sentence embeddings"
    AUTO = "auto", "Auto: fine-tune the transformer when a GPU is present"
    ON = "on", "On: fine-tune the transformer, on the CPU too"


class ProjectMLSettings(models.Model):
    """A project's training loop: retrain a control's model after every ``retrain_every``
    new finished annotations (0: only on demand). ``language`` (an ISO code such as "fr")
    picks the entity recogniser's starting pipeline and the intent model's sentence encoder;
    "" reads it from the tasks' ``lang``. ``finetune`` lets single-label intent versions
    fine-tune the whole transformer instead of training a head."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="ml_settings")
    retrain_every = models.PositiveIntegerField(default=0)
    # "" = every trainable control
    control = models.CharField(max_length=200, blank=True, default="")
    language = models.CharField(max_length=16, blank=True, default="")
    finetune = models.CharField(
        max_length=8,
        choices=FinetuneMode.choices,
        default=FinetuneMode.OFF,
        db_default=FinetuneMode.OFF,  # rows an older release inserts (README, Safe deploys)
    )

    def __str__(self) -> str:
        return f"ML settings of project {self.project_id}"
