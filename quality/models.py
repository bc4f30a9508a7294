"""Quality: a project's overlap and escalation settings, and the arbitration queue."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from projects.models import Project


def default_overlap_percentage() -> int:
    return min(int(settings.QUALITY_OVERLAP_PERCENTAGE), 100)


class QualitySettings(models.Model):
    """A project's quality settings. A project without a row has the defaults (overlap on for
    ``QUALITY_OVERLAP_PERCENTAGE`` % of tasks): ``quality.services.quality_settings_get``.

    Overlap here applies while the project leaves Label Studio's own overlap off
    (``maximum_annotations`` = 1); a project that sets Label Studio's fields keeps their rule.
    """

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, primary_key=True, related_name="quality_settings"
    )
    overlap_percentage = models.PositiveSmallIntegerField(
        default=default_overlap_percentage,
        validators=[MaxValueValidator(100)],
        help_text="Share of tasks (pseudo-random by id) sent to overlap_annotators annotators.",
    )
    overlap_annotators = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(2), MaxValueValidator(20)],
        help_text="Annotators an overlapped task (or a task flagged ambiguous) goes to.",
    )
    ambiguous_to_all = models.BooleanField(
        default=True,
        help_text="Tasks with meta.ambiguous = true always go to overlap_annotators annotators.",
    )
    agreement_threshold = models.FloatField(
        null=True,
        blank=True,
        default=0.5,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Tasks whose agreement falls below it go to the arbitration queue (null: off).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(overlap_percentage__lte=100),
                name="quality_overlap_percentage_lte_100",
            ),
            models.CheckConstraint(
                condition=models.Q(overlap_annotators__gte=2),
                name="quality_overlap_annotators_gte_2",
            ),
        ]

    def __str__(self) -> str:
        return f"Quality settings of project {self.project_id}"


class ArbitrationStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class ArbitrationItem(models.Model):
    """A task whose agreement fell below the project's threshold, waiting for an expert (or
    a manager). The expert's decision is an annotation with ``ground_truth`` set."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    task = models.OneToOneField("tasks.Task", on_delete=models.CASCADE, related_name="arbitration")
    agreement = models.FloatField(help_text="The task's agreement when it was escalated.")
    status = models.CharField(
        max_length=16, choices=ArbitrationStatus.choices, default=ArbitrationStatus.OPEN
    )
    decision = models.ForeignKey(
        "tasks.Annotation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["project", "status", "id"], name="arbitration_queue_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ArbitrationStatus.values),
                name="arbitration_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Arbitration of task {self.task_id} ({self.status})"


# The review workflow's models live in their own module (quality/models_workflow.py).
from quality.models_workflow import ReviewAction, ReviewDecision  # noqa: E402, F401
