from __future__ import annotations

import functools
import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from projects.labelconfig import LabelConfig, parse_config


class Organization(models.Model):
    title = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="OrganizationMember", related_name="organizations"
    )

    def __str__(self) -> str:
        return self.title


class OrganizationRole(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


class OrganizationMember(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organization_memberships"
    )
    role = models.CharField(
        max_length=16, choices=OrganizationRole.choices, default=OrganizationRole.MEMBER
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="org_member_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=OrganizationRole.values), name="org_member_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"


class Project(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="projects"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    label_config = models.TextField(
        help_text="Label Studio XML labelling config",
        default='<View><Text name="text" value="$text"/></View>',
    )
    expert_instruction = models.TextField(blank=True, help_text="Guidelines, in Markdown")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Label Studio's names, so its SDK and exports map one to one.
    maximum_annotations = models.PositiveIntegerField(
        default=1,
        validators=[MinValueValidator(1)],
        help_text="Annotations a task needs before it counts as labelled (overlap).",
    )
    overlap_cohort_percentage = models.PositiveSmallIntegerField(
        default=100,
        validators=[MaxValueValidator(100)],
        help_text="Share of tasks that get maximum_annotations; the rest need one.",
    )
    show_collab_predictions = models.BooleanField(
        default=True, help_text="Pre-fill the labelling interface with predictions."
    )
    show_skip_button = models.BooleanField(default=True)
    enable_empty_annotation = models.BooleanField(default=True)
    model_version = models.CharField(
        max_length=200, blank=True, help_text="Predictions of this version are shown."
    )
    min_annotations_to_start_training = models.PositiveIntegerField(default=10)
    task_lock_ttl = models.PositiveIntegerField(
        default=600, help_text="Seconds a task handed out by next-task stays reserved."
    )
    # Colours of predicted regions and choices in the labelling interface: green at or above
    # `high`, yellow from `low`, red below.
    prediction_confidence_high = models.FloatField(
        default=0.9,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Model scores from this value up are shown as confident (green).",
    )
    prediction_confidence_low = models.FloatField(
        default=0.7,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Model scores below this value are shown as doubtful (red); between: yellow.",
    )
    # Blind annotation (projects.permissions): annotators see only their own results on a
    # task, never another annotator's; reviewers and managers see everything.
    blind_annotation = models.BooleanField(
        default=True, help_text="Annotators do not see other annotators' results."
    )
    # Certification (tasks.services.certification): a new annotator first labels this many
    # gold tasks (tasks with a ground-truth annotation) and gets production tasks once their
    # accuracy on them reaches the threshold. 0 = off.
    certification_tasks = models.PositiveIntegerField(
        default=0, help_text="Gold tasks a new annotator labels first (0: no certification)."
    )
    certification_threshold = models.FloatField(
        default=0.8,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Accuracy on the gold tasks that certifies an annotator.",
    )
    # Gold tasks (quality.services.gold): the share of an annotator's next-task hand-outs that
    # are gold tasks they have not answered, mixed in unannounced. 0 = off.
    gold_rate = models.FloatField(
        default=0.0,
        db_default=0.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Share of next-task hand-outs that are (unannounced) gold tasks.",
    )
    # Review (quality.services.review): the share of each level's finished annotations that
    # enter the reviewers' queue. All 0 = no review sampling.
    review_share_junior = models.FloatField(
        default=0.0,
        db_default=0.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Share of a junior's annotations that go to review.",
    )
    review_share_senior = models.FloatField(
        default=0.0,
        db_default=0.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Share of a senior's annotations that go to review.",
    )
    review_share_expert = models.FloatField(
        default=0.0,
        db_default=0.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Share of an expert's annotations that go to review.",
    )
    # Confidence routing (quality.services.routing): null thresholds are off.
    routing_low = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Prediction scores below this go to senior annotators (null: off).",
    )
    routing_high = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Prediction scores above this go to juniors for quick verification.",
    )
    routing_margin = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="A gap between the top two class probabilities below this is ambiguous: "
        "the task goes to consensus.",
    )
    routing_consensus_k = models.PositiveSmallIntegerField(
        default=3,
        db_default=3,
        validators=[MinValueValidator(2), MaxValueValidator(20)],
        help_text="Annotators an ambiguous task gets.",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="ProjectMember", related_name="projects"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(maximum_annotations__gte=1), name="project_max_annotations_gte_1"
            ),
            models.CheckConstraint(
                condition=models.Q(certification_threshold__gte=0.0)
                & models.Q(certification_threshold__lte=1.0),
                name="project_certification_threshold_0_1",
            ),
            models.CheckConstraint(
                condition=models.Q(gold_rate__gte=0.0) & models.Q(gold_rate__lte=1.0),
                name="project_gold_rate_0_1",
            ),
            models.CheckConstraint(
                condition=models.Q(routing_low__isnull=True)
                | models.Q(routing_high__isnull=True)
                | models.Q(routing_low__lte=models.F("routing_high")),
                name="project_routing_low_lte_high",
                violation_error_message="routing_low must not exceed routing_high.",
            ),
            models.CheckConstraint(
                condition=models.Q(overlap_cohort_percentage__lte=100),
                name="project_overlap_percentage_lte_100",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    prediction_confidence_low__lte=models.F("prediction_confidence_high")
                ),
                name="project_confidence_low_lte_high",
                violation_error_message="prediction_confidence_low must not exceed prediction_confidence_high.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def routing_on(self) -> bool:
        """Whether next-task filters by level (read from the loaded row: free otherwise)."""
        return self.routing_low is not None or self.routing_high is not None

    @property
    def review_sampling_on(self) -> bool:
        return max(self.review_share_junior, self.review_share_senior, self.review_share_expert) > 0

    @property
    def parsed_config(self) -> LabelConfig:
        """The config as a schema; cached by content, so an edit is seen at once."""
        return _parse_cached(self.label_config)


@functools.lru_cache(maxsize=256)
def _parse_cached(xml: str) -> LabelConfig:
    # Keyed by the XML itself: the schema is immutable and shared by every request.
    return parse_config(xml)


class ProjectRole(models.TextChoices):
    MANAGER = "manager", "Manager"
    REVIEWER = "reviewer", "Reviewer"
    ANNOTATOR = "annotator", "Annotator"


class AnnotatorLevel(models.TextChoices):
    JUNIOR = "junior", "Junior"
    SENIOR = "senior", "Senior"
    EXPERT = "expert", "Expert"


class ProjectMember(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_memberships"
    )
    role = models.CharField(
        max_length=16, choices=ProjectRole.choices, default=ProjectRole.ANNOTATOR
    )
    level = models.CharField(
        max_length=16, choices=AnnotatorLevel.choices, default=AnnotatorLevel.JUNIOR
    )
    # Set when the member passed the project's certification; next-task reads it only in
    # projects with certification on.
    certified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="project_member_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=ProjectRole.values), name="project_member_role_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(level__in=AnnotatorLevel.values),
                name="project_member_level_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} ({self.role})"


class WebhookAction(models.TextChoices):
    PROJECT_CREATED = "PROJECT_CREATED"
    PROJECT_UPDATED = "PROJECT_UPDATED"
    PROJECT_DELETED = "PROJECT_DELETED"
    TASKS_CREATED = "TASKS_CREATED"
    TASKS_DELETED = "TASKS_DELETED"
    ANNOTATION_CREATED = "ANNOTATION_CREATED"
    ANNOTATIONS_CREATED = "ANNOTATIONS_CREATED"
    ANNOTATION_UPDATED = "ANNOTATION_UPDATED"
    ANNOTATIONS_DELETED = "ANNOTATIONS_DELETED"
    LABEL_LINK_CREATED = "LABEL_LINK_CREATED"
    LABEL_LINK_UPDATED = "LABEL_LINK_UPDATED"
    LABEL_LINK_DELETED = "LABEL_LINK_DELETED"


def webhook_secret_new() -> str:
    return secrets.token_hex(32)


class Webhook(models.Model):
    """A URL notified of events (Label Studio's webhook model); projects.webhooks delivers
    them, signed with ``secret`` (HMAC-SHA256), and logs every attempt in WebhookDelivery."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhooks"
    )
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(max_length=2048)
    send_payload = models.BooleanField(default=True)
    send_for_all_actions = models.BooleanField(default=True)
    actions = models.JSONField(default=list, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    secret = models.CharField(
        max_length=64,
        default=webhook_secret_new,
        # Rows inserted by a release without this column (during a blue-green switch) get ""
        # and a key at their first delivery (projects.webhooks).
        db_default="",
        help_text="Key of the X-Annotator-Signature HMAC; the receiver checks it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.url


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending"  # queued or waiting for its next attempt
    DELIVERED = "delivered"  # a 2xx answer
    FAILED = "failed"  # every attempt failed


class WebhookDelivery(models.Model):
    """One event for one webhook and what became of it: the delivery log."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    action = models.CharField(max_length=40, choices=WebhookAction.choices)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=WebhookDeliveryStatus.choices, default=WebhookDeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["webhook", "-id"], name="webhook_delivery_log_idx")]

    def __str__(self) -> str:
        return f"{self.action} → {self.webhook_id} ({self.status})"
