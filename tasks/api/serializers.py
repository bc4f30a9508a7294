from __future__ import annotations

from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from annotator.api.inputs import MAX_INT
from tasks.models import Annotation, Draft, Prediction, Task


class AnnotationOut(serializers.ModelSerializer):
    class Meta:
        model = Annotation
        fields = (
            "id",
            "task",
            "project",
            "completed_by",
            "result",
            "was_cancelled",
            "ground_truth",
            "review_status",
            "review_comment",
            "lead_time",
            "version",
            "parent_prediction",
            "parent_annotation",
            "created_at",
            "updated_at",
        )


class PredictionOut(serializers.ModelSerializer):
    class Meta:
        model = Prediction
        fields = (
            "id",
            "task",
            "project",
            "result",
            "score",
            "model_version",
            "created_at",
            "updated_at",
        )


class DraftOut(serializers.ModelSerializer):
    class Meta:
        model = Draft
        fields = (
            "id",
            "task",
            "user",
            "annotation",
            "result",
            "lead_time",
            "version",
            "created_at",
            "updated_at",
        )


class TaskOut(serializers.ModelSerializer):
    class Meta:
        model = Task
        fields: tuple[str, ...] = (
            "id",
            "project",
            "data",
            "meta",
            "priority",
            "overlap",
            "is_labeled",
            "total_annotations",
            "cancelled_annotations",
            "total_predictions",
            "created_at",
            "updated_at",
        )


class TaskFullOut(TaskOut):
    """A task with its annotations and predictions (Label Studio's task format)."""

    annotations = AnnotationOut(many=True, read_only=True)
    predictions = PredictionOut(many=True, read_only=True)

    class Meta(TaskOut.Meta):
        fields = (*TaskOut.Meta.fields, "annotations", "predictions")


class _StaleOut(serializers.Serializer):
    """409 to a write with a stale `version` (annotator.api.errors): the current object."""

    status_code = serializers.IntegerField()
    detail = serializers.CharField()
    reason = serializers.CharField()


class StaleAnnotationOut(_StaleOut):
    current = AnnotationOut()


class StaleDraftOut(_StaleOut):
    # A draft of a task already submitted answers with the saved annotation instead.
    current = PolymorphicProxySerializer(
        component_name="DraftConflictCurrent",
        serializers=[DraftOut, AnnotationOut],
        resource_type_field_name=None,
    )


class TaskRowOut(serializers.Serializer):
    """A task of a list page: `include` picks its fields, so none is always there;
    `annotations` and `predictions` come with `fields=all`."""

    id = serializers.IntegerField(required=False)
    project = serializers.IntegerField(required=False)
    data = serializers.JSONField(required=False)  # type: ignore[assignment]  # the API field is named data (Label Studio)
    meta = serializers.JSONField(required=False)
    priority = serializers.FloatField(required=False)
    overlap = serializers.IntegerField(required=False)
    is_labeled = serializers.BooleanField(required=False)
    total_annotations = serializers.IntegerField(required=False)
    cancelled_annotations = serializers.IntegerField(required=False)
    total_predictions = serializers.IntegerField(required=False)
    created_at = serializers.DateTimeField(required=False)
    updated_at = serializers.DateTimeField(required=False)
    annotations = AnnotationOut(many=True, required=False)
    predictions = PredictionOut(many=True, required=False)


class TaskPageOut(serializers.Serializer):
    """Label Studio's task list page: the totals (numbered pages only), the tasks (with their
    annotations and predictions when `fields=all`) and the keyset link to the next page."""

    total = serializers.IntegerField(required=False, help_text="Numbered pages only")
    total_annotations = serializers.IntegerField(required=False, help_text="Numbered pages only")
    total_predictions = serializers.IntegerField(required=False, help_text="Numbered pages only")
    tasks = TaskRowOut(many=True)
    next = serializers.URLField(allow_null=True, help_text="null: the last page")


class TaskIn(serializers.Serializer):
    project = serializers.IntegerField(required=False, min_value=1, max_value=MAX_INT)
    data = serializers.DictField()  # type: ignore[assignment]  # the API field is named data (Label Studio)
    meta = serializers.DictField(required=False)


class TaskPatchIn(serializers.Serializer):
    data = serializers.DictField(required=False)  # type: ignore[assignment]
    meta = serializers.DictField(required=False)
    priority = serializers.FloatField(required=False)


class TaskListQuery(serializers.Serializer):
    project = serializers.IntegerField(required=False, min_value=1, max_value=MAX_INT)
    is_labeled = serializers.BooleanField(required=False, allow_null=True, default=None)
    has_predictions = serializers.BooleanField(required=False, allow_null=True, default=None)
    only_annotated = serializers.BooleanField(
        required=False, default=False, help_text="tasks with at least one annotation (even skipped)"
    )
    after = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_INT,
        help_text="keyset cursor: tasks with id > after",
    )
    page = serializers.IntegerField(required=False, min_value=1, max_value=10_000_000)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=100)
    fields = serializers.ChoiceField(  # type: ignore[assignment]  # Label Studio's parameter
        choices=["task_only", "all"], required=False, default="task_only"
    )
    query = serializers.CharField(
        required=False,
        max_length=100_000,
        help_text="Label Studio's Data Manager query, JSON: `filters` (conjunction and items "
        "of filter/operator/value on `filter:tasks:<column>`: id, inner_id, total_annotations, "
        "cancelled_annotations, total_predictions, predictions_score, priority, overlap, "
        "created_at, updated_at, is_labeled, data.<field>), `ordering` (one column, `-` for "
        "descending) and `selectedItems`. An unknown filter or operator is a 400.",
    )
    selected_items = serializers.CharField(
        required=False,
        max_length=1_000_000,
        help_text='JSON: {"all": true, "excluded": [ids]} or {"all": false, "included": [ids]}',
    )
    include = serializers.CharField(
        required=False, max_length=1000, help_text="comma-separated task fields to return"
    )
    view = serializers.IntegerField(
        required=False,
        help_text="Label Studio's saved Data Manager tab: not kept here (400); send `query`",
    )
    resolve_uri = serializers.BooleanField(
        required=False, help_text="accepted for Label Studio's clients; URIs are served as stored"
    )
    review = serializers.BooleanField(required=False, help_text="accepted; no effect")

    def validate_view(self, value: int) -> int:
        raise serializers.ValidationError(
            "saved Data Manager views are not kept here: pass the filters as `query`"
        )


class AnnotationIn(serializers.Serializer):
    result = serializers.ListField(child=serializers.DictField(), required=False, default=list)
    was_cancelled = serializers.BooleanField(required=False, default=False)
    ground_truth = serializers.BooleanField(required=False, default=False)
    lead_time = serializers.FloatField(required=False, allow_null=True, min_value=0)
    parent_prediction = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_INT
    )
    completed_by = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_INT,
        help_text="Label Studio's field: only the caller's own id (an annotation is recorded "
        "as its author's; another user's id is refused)",
    )


class AnnotationPatchIn(serializers.Serializer):
    result = serializers.ListField(child=serializers.DictField(), required=False)
    was_cancelled = serializers.BooleanField(required=False)
    ground_truth = serializers.BooleanField(required=False)
    lead_time = serializers.FloatField(required=False, min_value=0)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_INT,
        help_text="The version you edited; a stale one gets 409. Omit for last-write-wins.",
    )


class DraftIn(serializers.Serializer):
    result = serializers.ListField(child=serializers.DictField(), required=False, default=list)
    lead_time = serializers.FloatField(required=False, allow_null=True, min_value=0)
    annotation = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_INT
    )
    version = serializers.IntegerField(required=False, min_value=1, max_value=MAX_INT)


class PredictionIn(serializers.Serializer):
    task = serializers.IntegerField(min_value=1, max_value=MAX_INT)
    result = serializers.ListField(child=serializers.DictField())
    score = serializers.FloatField(required=False, allow_null=True)
    model_version = serializers.CharField(
        required=False, allow_blank=True, max_length=200, default=""
    )


class PredictionPatchIn(serializers.Serializer):
    result = serializers.ListField(child=serializers.DictField(), required=False)
    score = serializers.FloatField(required=False, allow_null=True)
    model_version = serializers.CharField(required=False, allow_blank=True, max_length=200)
