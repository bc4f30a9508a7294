from __future__ import annotations

from typing import Any

from rest_framework import serializers

from annotator.api.inputs import MAX_INT
from annotator.models import User
from projects.models import AnnotatorLevel, Organization, Project, ProjectMember, ProjectRole

PROJECT_SETTINGS = (
    "maximum_annotations",
    "overlap_cohort_percentage",
    "show_collab_predictions",
    "show_skip_button",
    "enable_empty_annotation",
    "model_version",
    "min_annotations_to_start_training",
    "task_lock_ttl",
    "prediction_confidence_high",
    "prediction_confidence_low",
    "blind_annotation",
    "certification_tasks",
    "certification_threshold",
    "gold_rate",
    "review_share_junior",
    "review_share_senior",
    "review_share_expert",
    "routing_low",
    "routing_high",
    "routing_margin",
    "routing_consensus_k",
)


class UserSimpleOut(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ("id", "username", "first_name", "last_name", "email")


class OrganizationOut(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ("id", "title", "created_at")


class ProjectIn(serializers.Serializer):
    """Create (title required) and partial update; unknown Label Studio fields are ignored."""

    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    label_config = serializers.CharField(required=False)
    expert_instruction = serializers.CharField(required=False, allow_blank=True)
    organization = serializers.IntegerField(required=False, min_value=1, max_value=MAX_INT)
    maximum_annotations = serializers.IntegerField(required=False, min_value=1, max_value=100)
    overlap_cohort_percentage = serializers.IntegerField(required=False, min_value=0, max_value=100)
    show_collab_predictions = serializers.BooleanField(required=False)
    show_skip_button = serializers.BooleanField(required=False)
    enable_empty_annotation = serializers.BooleanField(required=False)
    model_version = serializers.CharField(required=False, allow_blank=True, max_length=200)
    min_annotations_to_start_training = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_INT
    )
    task_lock_ttl = serializers.IntegerField(required=False, min_value=10, max_value=86_400)
    prediction_confidence_high = serializers.FloatField(
        required=False, min_value=0.0, max_value=1.0
    )
    prediction_confidence_low = serializers.FloatField(required=False, min_value=0.0, max_value=1.0)
    blind_annotation = serializers.BooleanField(
        required=False, help_text="annotators do not see other annotators' results"
    )
    certification_tasks = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=1000,
        help_text="gold tasks a new annotator labels before production tasks (0: off)",
    )
    certification_threshold = serializers.FloatField(
        required=False,
        min_value=0.0,
        max_value=1.0,
        help_text="accuracy on the gold tasks that certifies an annotator",
    )

    gold_rate = serializers.FloatField(
        required=False,
        min_value=0.0,
        max_value=1.0,
        help_text="share of next-task hand-outs that are (unannounced) gold tasks",
    )
    review_share_junior = serializers.FloatField(
        required=False, min_value=0.0, max_value=1.0, help_text="share of juniors' work reviewed"
    )
    review_share_senior = serializers.FloatField(
        required=False, min_value=0.0, max_value=1.0, help_text="share of seniors' work reviewed"
    )
    review_share_expert = serializers.FloatField(
        required=False, min_value=0.0, max_value=1.0, help_text="share of experts' work reviewed"
    )
    routing_low = serializers.FloatField(
        required=False,
        allow_null=True,
        min_value=0.0,
        max_value=1.0,
        help_text="prediction scores below go to seniors (null: off)",
    )
    routing_high = serializers.FloatField(
        required=False,
        allow_null=True,
        min_value=0.0,
        max_value=1.0,
        help_text="prediction scores above go to juniors (null: off)",
    )
    routing_margin = serializers.FloatField(
        required=False,
        allow_null=True,
        min_value=0.0,
        max_value=1.0,
        help_text="top-2 probability gap below which a task goes to consensus (null: off)",
    )
    routing_consensus_k = serializers.IntegerField(
        required=False, min_value=2, max_value=20, help_text="annotators of an ambiguous task"
    )


class ProjectOut(serializers.ModelSerializer):
    created_by = UserSimpleOut(read_only=True)
    task_number = serializers.IntegerField(read_only=True, default=None, allow_null=True)
    num_tasks_with_annotations = serializers.IntegerField(
        read_only=True, default=None, allow_null=True
    )
    total_annotations_number = serializers.IntegerField(
        read_only=True, default=None, allow_null=True
    )
    total_predictions_number = serializers.IntegerField(
        read_only=True, default=None, allow_null=True
    )
    parsed_label_config = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = (
            "id",
            "title",
            "description",
            "label_config",
            "expert_instruction",
            "organization",
            "created_by",
            "created_at",
            "updated_at",
            *PROJECT_SETTINGS,
            "task_number",
            "num_tasks_with_annotations",
            "total_annotations_number",
            "total_predictions_number",
            "parsed_label_config",
        )

    def get_parsed_label_config(self, project: Project) -> dict[str, Any]:
        return project.parsed_config.to_dict()


class ConfigValidateIn(serializers.Serializer):
    label_config = serializers.CharField()


class MemberIn(serializers.Serializer):
    user = serializers.IntegerField(min_value=1, max_value=MAX_INT)
    role = serializers.ChoiceField(choices=ProjectRole.choices, default=ProjectRole.ANNOTATOR)
    level = serializers.ChoiceField(choices=AnnotatorLevel.choices, default=AnnotatorLevel.JUNIOR)


class MemberOut(serializers.ModelSerializer):
    user = UserSimpleOut(read_only=True)

    class Meta:
        model = ProjectMember
        fields = ("id", "user", "role", "level", "certified_at", "created_at")
