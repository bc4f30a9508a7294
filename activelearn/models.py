from __future__ import annotations

from django.db import models

from projects.models import Project


class Strategy(models.TextChoices):
    MARGIN = "margin", "Margin"
    LEAST_CONFIDENCE = "least_confidence", "Least confidence"
    ENTROPY = "entropy", "Entropy"
    MC_DROPOUT = "mc_dropout", "MC dropout (BALD, fine-tuned transformer)"
    RANDOM = "random", "Random order"


class QueueSettings(models.Model):
    """How a project's annotation queue is ordered (DESIGN §6). Without a row, the defaults."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="al_settings")
    strategy = models.CharField(max_length=32, choices=Strategy.choices, default=Strategy.MARGIN)
    batch_size = models.PositiveIntegerField(default=100)
    exploration = models.FloatField(default=0.15)  # share of each batch drawn at random
    # The share shrinks as the model's validation accuracy rises (strategies.adaptive_exploration).
    exploration_adaptive = models.BooleanField(default=True, db_default=True)
    diversity = models.BooleanField(default=True)  # one task per k-means cluster of candidates
    # Each rarely predicted class gets its most uncertain task into the batch
    # (strategies.rare_class_cover). Off by default: on BANKING77 (77 nearly balanced
    # intents) it swapped the most informative picks for weaker ones and cost labels.
    rare_cover = models.BooleanField(default=False, db_default=False)
    # A number in each task's data scaling its score (business priority); "" = none.
    weight_field = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(exploration__gte=0) & models.Q(exploration__lte=1),
                name="al_exploration_share_range",
            ),
            models.CheckConstraint(
                condition=models.Q(batch_size__gte=1), name="al_batch_size_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return f"Queue of project {self.project_id}: {self.strategy}"


class QueueRound(models.Model):
    """One re-prioritisation of a project's queue: what was scored and how long it took."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="al_rounds")
    model_version = models.CharField(max_length=200, blank=True, default="")
    strategy = models.CharField(max_length=32)
    scored = models.PositiveIntegerField(default=0)
    batch = models.JSONField(default=list)  # [[task id, reason], ...] in queue order
    note = models.CharField(
        max_length=500, blank=True, default="", db_default=""
    )  # e.g. a fallback
    seconds = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Round {self.pk} of project {self.project_id}"
