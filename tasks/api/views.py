from __future__ import annotations

from typing import Any, cast

from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api.inputs import query_id, query_ids, valid_input, valid_inputs
from projects.api.access import project_or_404, request_user, require_role
from projects.api.views import ERRORS
from projects.models import Project
from projects.permissions import Action, effective_role, sees_all_tasks
from tasks import services
from tasks.api import render
from tasks.api import serializers as s
from tasks.api.access import (
    annotation_or_404,
    annotation_scope,
    draft_or_404,
    prediction_or_404,
    task_or_404,
    task_scope,
)
from tasks.api.lsquery import include_fields, ls_query_apply, ls_query_parse
from tasks.models import Annotation, Draft, Prediction, Task
from tasks.selectors import task_list_for_user, task_list_totals, tasks_with_children
from tasks.services.idempotency import HEADER as IDEMPOTENCY_HEADER
from tasks.services.idempotency import annotation_create_once, idempotency_key_check


# --- tasks ----------------------------------------------------------------------------------
def _task_page(
    request: Request, tasks: QuerySet[Task], annotations: Q, role: str | None
) -> Response:
    """Label Studio's ``{"tasks": [...], "total": N, "total_annotations": N,
    "total_predictions": N}`` page. ``after=<id>`` pages by keyset
    (constant time at any depth, no total); ``next`` always carries that cursor. Label
    Studio's Data Manager ``query``, ``selected_items`` and ``include`` are honoured
    (tasks/api/lsquery.py)."""
    query = valid_input(s.TaskListQuery, request.query_params)
    if query["is_labeled"] is not None:
        tasks = tasks.filter(is_labeled=query["is_labeled"])
    if query["has_predictions"] is True:
        tasks = tasks.filter(total_predictions__gt=0)
    elif query["has_predictions"] is False:
        tasks = tasks.filter(total_predictions=0)
    if query["only_annotated"]:
        tasks = tasks.filter(Q(total_annotations__gt=0) | Q(cancelled_annotations__gt=0))
    parsed = ls_query_parse(query.get("query"), query.get("selected_items"))
    if "after" in query and parsed.ordering != ("id",):
        raise ValidationError(
            {"after": ["keyset pages follow the id order: use page with ordering"]}
        )
    size = query["page_size"]
    tasks = ls_query_apply(tasks, parsed)
    if query["fields"] == "all":
        tasks = tasks_with_children(tasks, annotations=annotations)
    body: dict[str, Any] = {}
    if "after" in query:
        rows = list(tasks.filter(pk__gt=query["after"])[:size])
    else:
        body.update(task_list_totals(tasks=tasks.order_by()))
        start = (query.get("page", 1) - 1) * size
        rows = list(tasks[start : start + size])
    out = s.TaskFullOut if query["fields"] == "all" else s.TaskOut
    rendered = cast(list[dict[str, Any]], out(rows, many=True).data)
    rendered = render.overlap_hidden(rendered, role)
    body["tasks"] = include_fields(rendered, query.get("include"))
    by_id = parsed.ordering == ("id",)
    body["next"] = (
        request.build_absolute_uri(f"{request.path}?{_with(request, after=rows[-1].pk)}")
        if len(rows) == size and by_id
        else None
    )
    return Response(body)


def _with(request: Request, **params: Any) -> str:
    query = request.query_params.copy()
    query.pop("page", None)
    for key, value in params.items():
        query[key] = str(value)
    return query.urlencode()


def _project_task_page(request: Request, project: Project) -> Response:
    """The tasks of the project the caller sees (annotators: those handed to them)."""
    tasks = Task.objects.filter(task_scope(request, project), project=project)
    return _task_page(
        request, tasks, annotation_scope(request, project, project), effective_role(project)
    )


class TaskListView(APIView):
    @extend_schema(
        operation_id="tasks_list",
        parameters=[s.TaskListQuery],
        responses={200: s.TaskPageOut, **ERRORS},
        description="Tasks of a project (`project` is required). Page with `page`/`page_size`, "
        "or by keyset with `after=<last id>` (the `next` link carries it).",
    )
    def get(self, request: Request) -> Response:
        project_id = query_id(request.query_params, "project", required=True)
        assert project_id is not None
        return _project_task_page(request, project_or_404(request, project_id))

    @extend_schema(request=s.TaskIn, responses={201: s.TaskOut, **ERRORS})
    def post(self, request: Request) -> Response:
        data = valid_input(s.TaskIn, request.data)
        if "project" not in data:
            raise ValidationError({"project": ["This field is required."]})
        project = project_or_404(request, data["project"], Action.MANAGE)
        item = {"data": data["data"], "meta": data.get("meta") or {}}
        summary = services.tasks_import(project=project, items=[item], user=request_user(request))
        task = Task.objects.get(pk=summary.task_ids[0])
        return Response(s.TaskOut(task).data, status=status.HTTP_201_CREATED)


class ProjectTaskListView(APIView):
    @extend_schema(
        operation_id="projects_tasks_list",
        parameters=[s.TaskListQuery],
        responses={200: s.TaskPageOut, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        return _project_task_page(request, project_or_404(request, pk))

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "ids", str, description="comma-separated task ids; all tasks if absent"
            )
        ],
        responses={200: dict, **ERRORS},
    )
    def delete(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.MANAGE)
        ids = query_ids(request.query_params, "ids")
        deleted = services.tasks_delete(project=project, ids=ids)
        return Response({"deleted": deleted})


class TaskDetailView(APIView):
    @extend_schema(responses={200: s.TaskFullOut, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        task = task_or_404(request, pk)
        annotations = annotation_scope(request, task, task.project)
        full = tasks_with_children(Task.objects.filter(pk=task.pk), annotations=annotations).get()
        body = cast(dict[str, Any], s.TaskFullOut(full).data)
        return Response(render.overlap_hidden([body], effective_role(task))[0])

    @extend_schema(request=s.TaskPatchIn, responses={200: s.TaskOut, **ERRORS})
    def patch(self, request: Request, pk: int) -> Response:
        task = task_or_404(request, pk, Action.MANAGE)
        task = services.task_update(task=task, **valid_input(s.TaskPatchIn, request.data))
        return Response(s.TaskOut(task).data)

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request: Request, pk: int) -> Response:
        task = task_or_404(request, pk, Action.MANAGE)
        services.tasks_delete(project=task.project, ids=[task.pk])
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- annotations ----------------------------------------------------------------------------
class TaskAnnotationsView(APIView):
    @extend_schema(responses={200: s.AnnotationOut(many=True), **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        task = task_or_404(request, pk)
        annotations = task.annotations.filter(annotation_scope(request, task, task.project))
        return Response(s.AnnotationOut(annotations.order_by("id"), many=True).data)

    @extend_schema(request=s.AnnotationIn, responses={201: s.AnnotationOut, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        task = task_or_404(request, pk, Action.ANNOTATE)
        data = valid_input(s.AnnotationIn, request.data)
        if data.get("ground_truth"):
            require_role(task, Action.REVIEW, f"Task {pk}")  # gold answers are not annotators'
        parent_id = data.pop("parent_prediction", None)
        parent = Prediction.objects.filter(pk=parent_id, task=task).first() if parent_id else None
        if parent_id and parent is None:
            raise ValidationError(
                {"parent_prediction": [f"prediction {parent_id} is not of task {pk}"]}
            )
        user = request_user(request)
        author = data.pop("completed_by", None)
        if author is not None and author != user.pk:
            raise ValidationError(
                {"completed_by": ["an annotation is recorded as yours: send your own id or none"]}
            )
        outcome = annotation_create_once(
            task=task,
            user=user,
            key=idempotency_key_check(request.headers.get(IDEMPOTENCY_HEADER)),
            create=lambda: services.annotation_create(
                task=task, user=user, parent_prediction=parent, **data
            ),
        )
        response = Response(
            render.annotation_dict(outcome.annotation), status=status.HTTP_201_CREATED
        )
        if outcome.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class AnnotationDetailView(APIView):
    @extend_schema(responses={200: s.AnnotationOut, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.AnnotationOut(annotation_or_404(request, pk)).data)

    @extend_schema(
        request=s.AnnotationPatchIn,
        responses={200: s.AnnotationOut, 409: s.StaleAnnotationOut, **ERRORS},
        description="Send the `version` you edited (or `If-Match: <version>`): a stale one "
        "gets 409 with the current annotation. Without it the write wins (Label Studio's way).",
    )
    def patch(self, request: Request, pk: int) -> Response:
        annotation = annotation_or_404(request, pk, Action.ANNOTATE)
        data = valid_input(s.AnnotationPatchIn, request.data)
        if data.get("ground_truth") is not None:
            require_role(annotation, Action.REVIEW, f"Annotation {pk}")
        version = data.pop("version", None) or _if_match(request) or annotation.version
        annotation = services.annotation_update(annotation=annotation, version=version, **data)
        return Response(s.AnnotationOut(annotation).data)

    put = patch

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request: Request, pk: int) -> Response:
        services.annotation_delete(annotation=annotation_or_404(request, pk, Action.ANNOTATE))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _if_match(request: Request) -> int | None:
    raw = request.headers.get("If-Match", "").strip().strip('"').removeprefix("W/").strip('"')
    if not raw:
        return None
    if not raw.isdigit():
        raise ValidationError({"If-Match": ["If-Match must be the annotation's version number"]})
    return int(raw)


# --- drafts ---------------------------------------------------------------------------------
class TaskDraftsView(APIView):
    @extend_schema(responses={200: s.DraftOut(many=True), **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        task = task_or_404(request, pk)
        drafts = Draft.objects.filter(task=task, user=request_user(request)).order_by("id")
        return Response(s.DraftOut(drafts, many=True).data)

    @extend_schema(request=s.DraftIn, responses={201: s.DraftOut, 409: s.StaleDraftOut, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        task = task_or_404(request, pk, Action.ANNOTATE)
        data = valid_input(s.DraftIn, request.data)
        user = request_user(request)
        annotation = None
        if data.get("annotation"):
            annotation = Annotation.objects.filter(
                pk=data["annotation"], task=task, completed_by=user
            ).first()
            if annotation is None:
                raise ValidationError({"annotation": ["not one of your annotations of this task"]})
        draft = services.draft_save(
            task=task,
            user=user,
            result=data["result"],
            lead_time=data.get("lead_time"),
            annotation=annotation,
            version=data.get("version"),
        )
        return Response(s.DraftOut(draft).data, status=status.HTTP_201_CREATED)


class DraftDetailView(APIView):
    @extend_schema(responses={200: s.DraftOut, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.DraftOut(draft_or_404(request, pk)).data)

    @extend_schema(request=s.DraftIn, responses={200: s.DraftOut, 409: s.StaleDraftOut, **ERRORS})
    def patch(self, request: Request, pk: int) -> Response:
        draft = draft_or_404(request, pk)
        data = valid_input(s.DraftIn, request.data)
        draft = services.draft_save(
            task=draft.task,
            user=draft.user,
            annotation=draft.annotation,
            result=data["result"],
            lead_time=data.get("lead_time"),
            version=data.get("version"),
        )
        return Response(s.DraftOut(draft).data)

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request: Request, pk: int) -> Response:
        draft_or_404(request, pk).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- predictions ----------------------------------------------------------------------------
class PredictionListView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("task", int, description="predictions of one task"),
            OpenApiParameter("project", int, description="predictions of a project"),
        ],
        responses={200: s.PredictionOut(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        task_id = query_id(request.query_params, "task")
        project_id = query_id(request.query_params, "project")
        if task_id is not None:
            predictions = task_or_404(request, task_id).predictions.all()
        elif project_id is not None:
            project = project_or_404(request, project_id)
            tasks = Task.objects.filter(task_scope(request, project), project=project)
            predictions = Prediction.objects.filter(project=project)
            if not sees_all_tasks(effective_role(project)):
                predictions = predictions.filter(task__in=tasks)
        else:
            raise ValidationError({"task": ["give ?task=<id> or ?project=<id>"]})
        return Response(s.PredictionOut(predictions.order_by("id")[:10_000], many=True).data)

    @extend_schema(
        request=s.PredictionIn(many=True),
        responses={201: s.PredictionOut(many=True), **ERRORS},
        description="One prediction object, or a list of them (bulk, all or nothing).",
    )
    def post(self, request: Request) -> Response:
        many = isinstance(request.data, list)
        rows = (
            valid_inputs(s.PredictionIn, request.data)
            if many
            else [valid_input(s.PredictionIn, request.data)]
        )
        if not rows:
            raise ValidationError({"predictions": ["the list is empty"]})
        task_ids = {r["task"] for r in rows}
        visible = task_list_for_user(user=request_user(request)).filter(pk__in=task_ids)
        tasks = {t.pk: t for t in visible.only("pk", "project_id")}
        projects = {t.project_id for t in tasks.values()}
        missing = sorted(task_ids - tasks.keys())
        if missing:
            raise NotFound(f"Task {missing[0]} not found.")
        if len(projects) != 1:
            raise ValidationError(
                {"task": ["all predictions of one request must be of one project"]}
            )
        project = project_or_404(request, projects.pop(), Action.MANAGE)
        created = services.predictions_create_many(project=project, items=rows)
        out = s.PredictionOut(created, many=True).data if many else s.PredictionOut(created[0]).data
        return Response(out, status=status.HTTP_201_CREATED)


class PredictionDetailView(APIView):
    @extend_schema(responses={200: s.PredictionOut, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.PredictionOut(prediction_or_404(request, pk)).data)

    @extend_schema(request=s.PredictionPatchIn, responses={200: s.PredictionOut, **ERRORS})
    def patch(self, request: Request, pk: int) -> Response:
        prediction = prediction_or_404(request, pk, Action.MANAGE)
        prediction = services.prediction_update(
            prediction=prediction, **valid_input(s.PredictionPatchIn, request.data)
        )
        return Response(s.PredictionOut(prediction).data)

    put = patch

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request: Request, pk: int) -> Response:
        services.prediction_delete(prediction=prediction_or_404(request, pk, Action.MANAGE))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- next task and leases -------------------------------------------------------------------
class NextTaskView(APIView):
    @extend_schema(
        responses={200: s.TaskFullOut, **ERRORS},
        description="The caller's next task, leased to them for the project's `task_lock_ttl`. "
        "404 with a message when no task is left for them.",
    )
    def get(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.ANNOTATE)
        task = services.task_next_take(project=project, user=request_user(request))
        if task is None:
            raise NotFound("No more tasks for you in this project.")
        predictions: list[Prediction] = []
        if project.show_collab_predictions and task.total_predictions:
            shown = task.predictions.order_by("id")
            if project.model_version:
                shown = shown.filter(model_version=project.model_version)
            predictions = list(shown)
        body = render.overlap_hidden([render.task_dict(task)], effective_role(project))[0]
        body["predictions"] = [render.prediction_dict(p) for p in predictions]
        body["annotations"] = []
        return Response(body)


class TaskSkipView(APIView):
    @extend_schema(request=None, responses={201: s.AnnotationOut, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        task = task_or_404(request, pk, Action.ANNOTATE)
        annotation = services.task_skip(task=task, user=request_user(request))
        return Response(s.AnnotationOut(annotation).data, status=status.HTTP_201_CREATED)


class TaskLockView(APIView):
    @extend_schema(
        request=None, responses={200: dict, **ERRORS}, description="Renew your lease (heartbeat)."
    )
    def post(self, request: Request, pk: int) -> Response:
        task = task_or_404(request, pk, Action.ANNOTATE)
        lock = services.task_lock_extend(task=task, user=request_user(request))
        return Response({"task": task.pk, "expires_at": lock.expires_at})

    @extend_schema(responses={204: None, **ERRORS}, description="Release your lease.")
    def delete(self, request: Request, pk: int) -> Response:
        task = task_or_404(request, pk, Action.ANNOTATE)
        services.task_lock_release(task=task, user=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
