"""Models of the quality workflow: review decisions (gold, routing and review sampling keep
their state in columns of projects and tasks, which next-task reads without a join)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ReviewAction(models.TextChoices):
    ACCEPT = "accept", "Accepted"
    REJECT = "reject", "Rejected"
    FIX = "fix", "Fixed and accepted"


class ReviewDecision(models.Model):
    """One reviewer's decision on one annotation (the history; the annotation's
    ``review_status`` holds the current state). ``before``/``after`` keep the result a
    fix-and-accept replaced; ``author`` is denormalised for per-annotator rejection rates."""

    annotation = models.ForeignKey(
        "tasks.Annotation", on_delete=models.CASCADE, related_name="review_decisions"
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=8, choices=ReviewAction.choices)
    comment = models.TextField(blank=True, default="")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = (models.Index(fields=["project", "author"], name="review_decision_author_idx"),)
        constraints = (
            models.CheckConstraint(
                condition=models.Q(action__in=ReviewAction.values),
                name="review_decision_action_valid",
            ),
        )

    def __str__(self) -> str:
        return f"{self.action} of annotation {self.annotation_id}"
