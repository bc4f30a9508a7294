from __future__ import annotations

from django.conf import settings
from django.db import models

from projects.models import Project


class Task(models.Model):
    """One item to label. ``data`` holds the fields the labelling config names ($text...).

    The counters are denormalised so that next-task and the data manager never count rows;
    tasks.services keeps them in step inside the transaction that changes annotations.
    """

    # db_index=False here and below: a composite index starting with the column covers it.
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="tasks", db_index=False
    )
    data = models.JSONField()
    meta = models.JSONField(default=dict, blank=True)
    priority = models.FloatField(
        default=0.0, help_text="Higher first in next-task; written by active learning."
    )
    overlap = models.PositiveIntegerField(
        default=1, help_text="Annotations this task needs (from the project's overlap rules)."
    )
    total_annotations = models.PositiveIntegerField(default=0)
    cancelled_annotations = models.PositiveIntegerField(default=0)
    total_predictions = models.PositiveIntegerField(default=0)
    is_labeled = models.BooleanField(default=False)
    # Score of the newest scored prediction, kept by task_counters_refresh and imports so the
    # data manager sorts and filters on an indexed column instead of aggregating predictions.
    prediction_score = models.FloatField(null=True, blank=True)
    # Written by the apps above tasks (DESIGN §2): activelearn's uncertainty when it has
    # one (the data manager shows 1 - prediction_score otherwise), quality's agreement.
    uncertainty = models.FloatField(null=True, blank=True)
    # Why activelearn put the task at the head of the queue ("margin 0.912, diverse pick",
    # "exploration (random)"...); null for the rest of the pool.
    queue_reason = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    agreement = models.FloatField(null=True, blank=True)
    # Confidence routing, written by quality: who may get the task in next-task ("": anyone,
    # "senior": seniors and experts, "junior": anyone, "consensus": anyone, overlap k) and
    # why, for the data manager.
    route = models.CharField(max_length=16, blank=True, default="", db_default="")
    route_reason = models.CharField(max_length=200, blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # next-task: unfinished tasks of a project, highest priority first, then import
            # order. Partial, so the planner walks it in ORDER BY order and stops at LIMIT
            # (with is_labeled as a key column SQLite sorted every task of the project).
            models.Index(
                fields=["project", "-priority", "id"],
                condition=models.Q(is_labeled=False),
                name="task_next_idx",
            ),
            models.Index(fields=["project", "id"], name="task_project_id_idx"),
            # Data manager sorts: keyset pages seek (project, key, id) in either direction.
            models.Index(fields=["project", "priority", "id"], name="task_dm_priority_idx"),
            models.Index(
                fields=["project", "total_annotations", "id"], name="task_dm_annotations_idx"
            ),
            models.Index(fields=["project", "prediction_score", "id"], name="task_dm_score_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(overlap__gte=1), name="task_overlap_gte_1"),
        ]

    def __str__(self) -> str:
        return f"Task {self.pk}"


class Annotation(models.Model):
    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="annotations", db_index=False
    )
    # Denormalised from task so project-wide queries (export, agreement) need no join.
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="annotations", db_index=False
    )
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="annotations",
        db_index=False,
    )
    result = models.JSONField(default=list, blank=True)
    was_cancelled = models.BooleanField(default=False, help_text="Skipped by the annotator.")
    ground_truth = models.BooleanField(default=False)
    # Written by the quality app's review; tasks only filters on it (exports).
    review_status = models.CharField(
        max_length=16,
        blank=True,
        default="",
        choices=[
            ("", "Not reviewed"),
            ("pending", "To review"),
            ("accepted", "Accepted"),
            ("rejected", "Rejected"),
        ],
    )
    # The reviewer's comment of the last rejection, shown to the author on the labelling page
    # (the decisions' history is quality's ReviewDecision).
    review_comment = models.TextField(blank=True, default="", db_default="")
    lead_time = models.FloatField(null=True, blank=True, help_text="Seconds spent.")
    # db_default too: imports write annotation rows with raw multi-row INSERTs.
    notes = models.TextField(
        blank=True, default="", db_default="", help_text="The annotator's comment."
    )
    version = models.PositiveIntegerField(
        default=1, help_text="Incremented on each update; a stale write is refused."
    )
    parent_prediction = models.ForeignKey(
        "Prediction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    parent_annotation = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["task", "created_at"], name="annotation_task_idx"),
            models.Index(fields=["completed_by", "task"], name="annotation_user_task_idx"),
            models.Index(fields=["project", "id"], name="annotation_project_idx"),
            # One user's work in one project (labelling progress): done and skipped counts
            # from the index alone, the newest N by id without a sort.
            models.Index(
                fields=["completed_by", "project", "id", "was_cancelled"],
                name="annotation_user_project_idx",
            ),
            # Data manager's review filter; partial, so unreviewed work and skips (most rows)
            # cost nothing, and covering: the filter reads task ids from the index alone.
            models.Index(
                fields=["project", "review_status", "task"],
                condition=~models.Q(review_status="") & models.Q(was_cancelled=False),
                name="annotation_review_idx",
            ),
            # Gold tasks (certification, ground-truth exports): few rows, read per project.
            models.Index(
                fields=["project", "task"],
                condition=models.Q(ground_truth=True),
                name="annotation_gold_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="annotation_version_gte_1"
            ),
            models.CheckConstraint(
                condition=models.Q(lead_time__isnull=True) | models.Q(lead_time__gte=0),
                name="annotation_lead_time_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return f"Annotation {self.pk} on task {self.task_id}"


class Draft(models.Model):
    """Unsaved work of one user on one task (or on one of their annotations)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="drafts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drafts"
    )
    annotation = models.ForeignKey(
        Annotation, null=True, blank=True, on_delete=models.CASCADE, related_name="drafts"
    )
    result = models.JSONField(default=list, blank=True)
    lead_time = models.FloatField(null=True, blank=True)
    notes = models.TextField(blank=True, default="", db_default="")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["task", "user"],
                condition=models.Q(annotation__isnull=True),
                name="draft_one_per_user_task",
            ),
            models.UniqueConstraint(
                fields=["annotation", "user"],
                condition=models.Q(annotation__isnull=False),
                name="draft_one_per_user_annotation",
            ),
        ]

    def __str__(self) -> str:
        return f"Draft of {self.user_id} on task {self.task_id}"


class Prediction(models.Model):
    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="predictions", db_index=False
    )
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="predictions", db_index=False
    )
    result = models.JSONField(default=list, blank=True)
    score = models.FloatField(null=True, blank=True)
    model_version = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["task", "model_version"], name="prediction_task_version_idx"),
            models.Index(
                fields=["project", "model_version"], name="prediction_project_version_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Prediction {self.pk} ({self.model_version}) on task {self.task_id}"


class TaskAssignment(models.Model):
    """A task routed to a project member by a manager (data manager's bulk assign).

    A row per (task, user), not an FK on Task: tasks with overlap > 1 go to several
    annotators. Stored and shown for now; next-task is to hand annotators their assigned
    tasks first (the routing rules of DESIGN §4).
    """

    # Denormalised from task, so "tasks assigned to X in this project" is one index range.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="assignments", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="task_assignments",
        db_index=False,
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "user"], name="task_assignment_unique"),
        ]
        indexes = [
            models.Index(fields=["project", "user", "task"], name="task_assignment_user_idx"),
        ]

    def __str__(self) -> str:
        return f"Task {self.task_id} assigned to {self.user_id}"


class TaskLock(models.Model):
    """A lease: the task is reserved for ``user`` until ``expires_at`` (next-task, DESIGN §4)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="locks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "user"], name="task_lock_unique"),
        ]
        indexes = [models.Index(fields=["task", "expires_at"], name="task_lock_expiry_idx")]

    def __str__(self) -> str:
        return f"Lock on task {self.task_id} by {self.user_id} until {self.expires_at}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """One import: run in the request when small, as a Celery job past a size threshold.
    Either way all or nothing; ``rows_done`` is progress, ``errors`` the bad rows."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    sources = models.JSONField(default=list, help_text="Uploaded file names and URLs.")
    files = models.JSONField(default=list, help_text="Storage paths of the saved uploads.")
    rows_done = models.PositiveIntegerField(default=0)
    task_count = models.PositiveIntegerField(default=0)
    annotation_count = models.PositiveIntegerField(default=0)
    prediction_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Written by the running worker (annotator/jobs_runtime.py): a stale one means it died.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, db_default=0)

    def __str__(self) -> str:
        return f"Import {self.pk} of project {self.project_id} ({self.status})"


class ExportJob(models.Model):
    """An export made in the background and downloaded later (very large projects)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="exports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    export_type = models.CharField(max_length=32)
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    file = models.CharField(max_length=500, blank=True, help_text="Storage path of the result.")
    task_count = models.PositiveIntegerField(default=0)
    size = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Written by the running worker (annotator/jobs_runtime.py): a stale one means it died.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, db_default=0)

    def __str__(self) -> str:
        return f"Export {self.pk} ({self.export_type}) of project {self.project_id}"


class IdempotencyKey(models.Model):
    """The annotation an ``Idempotency-Key`` created: the same submit sent again (a retry
    after a lost answer) returns it instead of making a second annotation. The unique
    constraint settles two copies racing: the later insert fails and its annotation rolls
    back with it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="+", db_index=False)
    annotation = models.ForeignKey(
        Annotation, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key} → annotation {self.annotation_id}"


# --- cloud storage connections (Label Studio's "storages") -------------------------------------
class StorageStatus(models.TextChoices):
    INITIALIZED = "initialized", "Initialized"
    QUEUED = "queued", "Queued"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class S3StorageBase(models.Model):
    """A bucket prefix of a project, reached with its own credentials (tasks/storage/s3.py).
    The secrets are write-only in the API. ``s3_endpoint`` names an S3-compatible server
    (MinIO...); a private or loopback one is refused unless OUTBOUND_ALLOW_PRIVATE_URLS."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=256, blank=True)
    description = models.TextField(blank=True)
    bucket = models.CharField(max_length=63)
    prefix = models.CharField(max_length=1024, blank=True)
    regex_filter = models.CharField(max_length=512, blank=True)
    aws_access_key_id = models.CharField(max_length=256, blank=True)
    aws_secret_access_key = models.CharField(max_length=256, blank=True)
    aws_session_token = models.TextField(blank=True)
    region_name = models.CharField(max_length=64, blank=True)
    s3_endpoint = models.CharField(max_length=2048, blank=True)
    status = models.CharField(
        max_length=16, choices=StorageStatus.choices, default=StorageStatus.INITIALIZED
    )
    traceback = models.TextField(blank=True, help_text="Why the last sync failed.")
    last_sync = models.DateTimeField(null=True, blank=True)
    last_sync_count = models.PositiveIntegerField(null=True, blank=True)
    sync_started_at = models.DateTimeField(null=True, blank=True)
    # Minutes between syncs run by the beat job ``tasks.jobs.storages_sync_due``; 0: on demand.
    sync_interval = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix} ({type(self).__name__} {self.pk})"


class S3ImportStorage(S3StorageBase):
    """Source storage: objects under the prefix become tasks, each key once."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="import_storages")
    # False: each object is a task file (JSON, JSONL, CSV...); True: each object is a media
    # file and becomes one task whose data holds its ``s3://bucket/key`` reference.
    use_blob_urls = models.BooleanField(default=False)
    # Hand the browser presigned URLs (minutes) for this bucket's references.
    presign = models.BooleanField(default=True)
    presign_ttl = models.PositiveIntegerField(default=15)
    recursive_scan = models.BooleanField(default=False)


class S3ExportStorage(S3StorageBase):
    """Target storage: each submitted task's JSON goes to ``prefix/<task id>.json``."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="export_storages")


class S3ImportLink(models.Model):
    """A key already imported by a source storage: a sync skips it (the unique constraint is
    the guard against two syncs racing). ``task`` is the first task made from the key."""

    storage = models.ForeignKey(S3ImportStorage, on_delete=models.CASCADE, related_name="links")
    key = models.CharField(max_length=1024)
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    task_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["storage", "key"], name="s3_import_link_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key} of storage {self.storage_id}"
