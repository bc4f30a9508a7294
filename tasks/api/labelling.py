"""The labelling interface's API (our addition beside Label Studio's): one task with where
the user starts from, submit/skip that answer with the next task in the same round trip,
auto-saved drafts with notes, progress, similar tasks."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api.inputs import MAX_INT, valid_input
from annotator.models import User
from projects.api.access import project_or_404, request_user
from projects.api.views import ERRORS
from projects.models import Project
from projects.permissions import Action, effective_role, sees_all_tasks
from tasks import label_selectors as reads
from tasks.api.access import task_or_404
from tasks.models import Annotation, Draft, Prediction, Task
from tasks.services import task_next_take
from tasks.services.certification import certification_answer_record, certification_status
from tasks.services.idempotency import HEADER as IDEMPOTENCY_HEADER
from tasks.services.idempotency import annotation_create_once, idempotency_key_check
from tasks.services.labelling import (
    label_draft_save,
    label_prediction_fetch,
    label_skip,
    label_submit,
)
from tasks.storage.media import media_resolve

NOTES_MAX = 10_000


class LabelSubmitIn(serializers.Serializer):
    result = serializers.ListField(child=serializers.DictField(), default=list)
    lead_time = serializers.FloatField(required=False, allow_null=True, min_value=0)
    notes = serializers.CharField(
        required=False, allow_blank=True, max_length=NOTES_MAX, default=""
    )
    parent_prediction = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_INT
    )
    annotation = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_INT,
        help_text="your annotation of the task to update (else a new one is made)",
    )  # fmt: skip
    version = serializers.IntegerField(required=False, min_value=1, max_value=MAX_INT)
    next = serializers.BooleanField(default=True, help_text="answer with your next task too")


class LabelSkipIn(serializers.Serializer):
    notes = serializers.CharField(
        required=False, allow_blank=True, max_length=NOTES_MAX, default=""
    )
    next = serializers.BooleanField(default=True)


class LabelDraftIn(serializers.Serializer):
    result = serializers.ListField(child=serializers.DictField(), default=list)
    lead_time = serializers.FloatField(required=False, allow_null=True, min_value=0)
    notes = serializers.CharField(
        required=False, allow_blank=True, max_length=NOTES_MAX, default=""
    )
    version = serializers.IntegerField(required=False, min_value=1, max_value=MAX_INT)
    annotation = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_INT
    )


# --- payloads -------------------------------------------------------------------------------
def _work(row: Annotation | Draft | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "id": row.pk,
        "version": row.version,
        "result": row.result,
        "notes": row.notes,
        "lead_time": row.lead_time,
        "annotation": getattr(row, "annotation_id", None),
        # A rejected annotation comes back to its author with the reviewer's comment.
        "review_status": getattr(row, "review_status", ""),
        "review_comment": getattr(row, "review_comment", ""),
    }


def _prediction(prediction: Prediction | None) -> dict[str, Any] | None:
    if prediction is None:
        return None
    return {
        "id": prediction.pk,
        "model_version": prediction.model_version,
        "score": prediction.score,
        "result": prediction.result,
    }


def label_task_payload(*, task: Task, user: User, role: str | None) -> dict[str, Any]:
    """Everything the page needs to show one task to ``user``, whose ``role`` in the project
    limits J/K to the tasks they see (also embedded in the page)."""
    start = reads.label_start_get(task=task, user=user)
    handed_to = None if sees_all_tasks(role) else user
    neighbours = reads.task_neighbours(task=task, handed_to=handed_to)
    prediction, notice = start.prediction, None
    if prediction is None and task.project.show_collab_predictions:
        # A connected ML backend is asked on the spot, within its timeout; a failure leaves
        # the task without prediction and says why (``prediction_notice``).
        fetched = label_prediction_fetch(task=task)
        prediction, notice = fetched.prediction, fetched.notice
    return {
        "task": {
            "id": task.pk,
            # Bucket references become presigned URLs valid for minutes (objects stay private).
            "data": media_resolve(project=task.project, data=task.data),
            "meta": task.meta,
            "is_labeled": task.is_labeled,
            "total_annotations": task.total_annotations,
            "html": reads.hypertext_html(config=task.project.parsed_config, data=task.data),
        },
        "draft": _work(start.draft),
        "annotation": _work(start.annotation),
        "prediction": _prediction(prediction),
        "prediction_notice": notice,
        "neighbours": {"previous": neighbours.previous, "next": neighbours.next},
    }


def _next_payload(project: Project, user: User, role: str | None) -> dict[str, Any] | None:
    task = task_next_take(project=project, user=user)
    return label_task_payload(task=task, user=user, role=role) if task is not None else None


def _step_answer(annotation: Annotation, task: Task, user: User, *, with_next: bool) -> Response:
    """Submit and skip answer with what was saved, the certification feedback when the task
    was a gold task of the user's certification, and, in the same round trip, the next task
    (after the feedback: passing it makes the next one a production task)."""
    role = effective_role(task)
    project = task.project
    feedback = None
    if project.certification_tasks:
        feedback = certification_answer_record(project=project, user=user, annotation=annotation)
    body = {
        "annotation": _annotation_out(annotation),
        "certification": feedback,
        "next": _next_payload(project, user, role) if with_next else None,
    }
    return Response(body, status=status.HTTP_201_CREATED)


def _annotation_out(annotation: Annotation) -> dict[str, Any]:
    return {
        "id": annotation.pk,
        "version": annotation.version,
        "was_cancelled": annotation.was_cancelled,
        "lead_time": annotation.lead_time,
        "notes": annotation.notes,
        "parent_prediction": annotation.parent_prediction_id,
    }


# --- views ----------------------------------------------------------------------------------
class LabelTaskView(APIView):
    @extend_schema(responses={200: dict, **ERRORS}, description="One task for the labelling page.")
    def get(self, request: Request, pk: int) -> Response:
        task = task_or_404(request, pk, Action.ANNOTATE)
        user = request_user(request)
        return Response(label_task_payload(task=task, user=user, role=effective_role(task)))


class LabelNextView(APIView):
    @extend_schema(
        responses={200: dict, **ERRORS},
        description="Your next task (leased to you) for the labelling page; 404 when none is left.",
    )
    def get(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.ANNOTATE)
        payload = _next_payload(project, request_user(request), effective_role(project))
        if payload is None:
            raise NotFound("No more tasks for you in this project.")
        return Response(payload)


class LabelSubmitView(APIView):
    @extend_schema(
        request=LabelSubmitIn,
        responses={201: dict, 409: dict, **ERRORS},
        description="Submit your annotation (new, or an update of yours at `version`) with "
        "lead time and notes; the answer carries your next task (`next`, null when none).",
    )
    def post(self, request: Request, pk: int) -> Response:
        task = task_or_404(request, pk, Action.ANNOTATE)
        data = valid_input(LabelSubmitIn, request.data)
        user = request_user(request)
        own = _own_annotation(task, user, data.get("annotation"))
        key = idempotency_key_check(request.headers.get(IDEMPOTENCY_HEADER))

        def submit() -> Annotation:
            return label_submit(
                task=task,
                user=user,
                result=data["result"],
                lead_time=data.get("lead_time"),
                notes=data["notes"],
                parent_prediction=_parent(task, data.get("parent_prediction")),
                annotation=own,
                version=data.get("version"),
            )

        # Updates carry a version (a replay gets 409); a new annotation may carry a key.
        if own is not None:
            return _step_answer(submit(), task, user, with_next=data["next"])
        outcome = annotation_create_once(task=task, user=user, key=key, create=submit)
        response = _step_answer(outcome.annotation, task, user, with_next=data["next"])
        if outcome.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


def _parent(task: Task, prediction_id: int | None) -> Prediction | None:
    if not prediction_id:
        return None
    parent = Prediction.objects.filter(pk=prediction_id, task=task).first()
    if parent is None:
        raise ValidationError(
            {"parent_prediction": [f"prediction {prediction_id} is not of task {task.pk}"]}
        )
    return parent


def _own_annotation(task: Task, user: User, annotation_id: int | None) -> Annotation | None:
    if not annotation_id:
        return None
    annotation = Annotation.objects.filter(pk=annotation_id, task=task, completed_by=user).first()
    if annotation is None:
        raise ValidationError({"annotation": ["not one of your annotations of this task"]})
    return annotation


class LabelSkipView(APIView):
    @extend_schema(request=LabelSkipIn, responses={201: dict, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        task = task_or_404(request, pk, Action.ANNOTATE)
        data = valid_input(LabelSkipIn, request.data)
        user = request_user(request)
        annotation = label_skip(task=task, user=user, notes=data["notes"])
        return _step_answer(annotation, task, user, with_next=data["next"])


class LabelDraftView(APIView):
    @extend_schema(
        request=LabelDraftIn,
        responses={200: dict, 409: dict, **ERRORS},
        description="Auto-save: create or replace your draft of the task, with notes and lead "
        "time. Send the `version` you have: a stale one gets 409 with the current draft.",
    )
    def post(self, request: Request, pk: int) -> Response:
        task = task_or_404(request, pk, Action.ANNOTATE)
        data = valid_input(LabelDraftIn, request.data)
        user = request_user(request)
        draft = label_draft_save(
            task=task,
            user=user,
            result=data["result"],
            lead_time=data.get("lead_time"),
            notes=data["notes"],
            version=data.get("version"),
            annotation=_own_annotation(task, user, data.get("annotation")),
        )
        return Response(_work(draft))


class LabelProgressView(APIView):
    @extend_schema(responses={200: dict, **ERRORS}, description="Your progress in the project.")
    def get(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.ANNOTATE)
        return Response(reads.label_progress(project=project, user=request_user(request)).to_dict())


class CertificationOut(serializers.Serializer):
    required = serializers.IntegerField(  # type: ignore[assignment]  # the field name of the API
        help_text="gold tasks to answer; 0: no certification"
    )
    done = serializers.IntegerField(help_text="gold tasks answered (skips included)")
    accuracy = serializers.FloatField(allow_null=True, help_text="mean score of the last N")
    threshold = serializers.FloatField()
    certified = serializers.BooleanField()
    certified_at = serializers.DateTimeField(allow_null=True)
    passed = serializers.BooleanField(
        allow_null=True, help_text="null until N answers; then whether the last N pass"
    )


class CertificationView(APIView):
    @extend_schema(
        responses={200: CertificationOut, **ERRORS},
        description="Your certification in the project: gold tasks answered, accuracy on the "
        "last `required` of them, and whether you are certified.",
    )
    def get(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.ANNOTATE)
        status_ = certification_status(project=project, user=request_user(request))
        return Response(CertificationOut(status_.to_dict()).data)


class LabelSimilarView(APIView):
    @extend_schema(
        responses={200: dict, **ERRORS},
        description="Annotated tasks of the project most similar to this one, with their labels.",
    )
    def get(self, request: Request, pk: int) -> Response:
        task = task_or_404(request, pk, Action.ANNOTATE)
        text = reads.task_text(config=task.project.parsed_config, data=task.data)
        similar = reads.label_similar_tasks(task=task, text=text, author=_author(request, task))
        return Response({"similar": similar})


class LabelEntitiesView(APIView):
    @extend_schema(
        responses={200: dict, **ERRORS},
        description="Span texts labelled elsewhere in the project that occur in this task, "
        "with their most frequent label (suggestions).",
    )
    def get(self, request: Request, pk: int) -> Response:
        task = task_or_404(request, pk, Action.ANNOTATE)
        text = reads.task_text(config=task.project.parsed_config, data=task.data)
        found = reads.label_known_entities(task=task, text=text, author=_author(request, task))
        return Response({"entities": found})


def _author(request: Request, task: Task) -> int | None:
    """Whose annotations feed similar tasks and suggestions: everyone's for reviewers and
    managers, the caller's own for annotators (they see only tasks handed to them)."""
    return None if sees_all_tasks(effective_role(task)) else request_user(request).pk
