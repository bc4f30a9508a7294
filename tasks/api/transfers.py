"""Import and export endpoints (Label Studio's paths)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, QueryDict, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api.inputs import MAX_INT, valid_input, valid_inputs
from annotator.jobs_runtime import job_waiting_of
from projects.api.access import project_or_404, request_user
from projects.api.views import ERRORS
from projects.permissions import Action
from tasks.api.serializers import PredictionIn
from tasks.exporters import FORMATS, ExportError, formats_for
from tasks.importers import ImportFormatError
from tasks.jobs import export_run, import_run
from tasks.models import ExportJob, ImportJob, JobStatus
from tasks.selectors import ExportFilter
from tasks.services import predictions_create_many
from tasks.services.transfers import (
    Upload,
    export_job_retry,
    export_open,
    import_job_create,
    import_job_retry,
    import_job_run,
    import_progress,
)

_BODY_NAMES = {
    "application/json": "body.json",
    "application/x-ndjson": "body.jsonl",
    "application/jsonl": "body.jsonl",
    "text/csv": "body.csv",
    "text/tab-separated-values": "body.tsv",
    "text/plain": "body.txt",
}


class ImportJobOut(serializers.ModelSerializer):
    rows_done = serializers.SerializerMethodField()
    waiting = serializers.SerializerMethodField(
        help_text='what holds the job up ("" when nothing does): no worker running, or its '
        "worker went silent"
    )

    class Meta:
        model = ImportJob
        fields = (
            "id", "project", "status", "sources", "rows_done", "task_count", "annotation_count",
            "prediction_count", "errors", "created_at", "started_at", "finished_at",
            "attempts", "heartbeat_at", "waiting",
        )  # fmt: skip

    def get_rows_done(self, job: ImportJob) -> int:
        return import_progress(job=job)

    def get_waiting(self, job: ImportJob) -> str:
        return job_waiting_of(job)


class ImportQuery(serializers.Serializer):
    return_task_ids = serializers.BooleanField(required=False, default=False)
    commit_to_project = serializers.BooleanField(required=False, default=True)
    # "async" is a keyword: the field is read under its query name in the view.
    run_async = serializers.BooleanField(required=False, default=False)

    def validate_commit_to_project(self, value: bool) -> bool:
        # Label Studio's two-step import (upload now, commit later through /reimport) would
        # leave uploaded rows outside the all-or-nothing import: refused, not ignored.
        if not value:
            raise serializers.ValidationError(
                "uploading without committing is not supported: an import is committed at "
                "once, all or nothing (leave commit_to_project out or true)"
            )
        return value


def _sources(request: Request) -> tuple[list[Upload], list[str]]:
    """Files, URLs or a raw body, read from Django's request so nothing is parsed twice."""
    django_request = request._request
    content_type = (request.content_type or "").split(";")[0].strip().lower()
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        files = django_request.FILES
        uploads = [
            Upload(f.name or key, f.content_type, f) for key in files for f in files.getlist(key)
        ]
        urls = [u for key in ("url", "urls") for u in django_request.POST.getlist(key) if u.strip()]
        return uploads, urls
    return [Upload(_BODY_NAMES.get(content_type, "body.json"), content_type, django_request)], []


class ProjectImportView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("return_task_ids", bool),
            OpenApiParameter("async", bool, description="run as a background job (202)"),
            OpenApiParameter(
                "commit_to_project", bool, description="only true (the default) is supported"
            ),
        ],
        request={
            "application/json": {"type": "array", "items": {"type": "object"}},
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "url": {"type": "string"},
                },
            },
        },
        responses={201: dict, 202: ImportJobOut, **ERRORS},
        description="Import tasks: a JSON list of tasks or data objects (body), or files "
        "(JSON, JSONL, CSV, TSV, TXT, optionally .gz; images/audio/video become tasks), or "
        "`url` form fields. All or nothing: a bad row rejects the import, naming the row. "
        f"Bodies over IMPORT_ASYNC_BYTES ({settings.IMPORT_ASYNC_BYTES} bytes) run as a job.",
    )
    def post(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.MANAGE)
        query = valid_input(
            ImportQuery,
            {
                **request.query_params.dict(),
                "run_async": request.query_params.get("async", "false"),
            },
        )
        started = time.perf_counter()
        uploads, urls = _sources(request)
        if not uploads and not urls:
            raise ValidationError({"file": ["send tasks as a JSON body, files, or url fields"]})
        try:
            job = import_job_create(
                project=project, user=request_user(request), uploads=uploads, urls=urls
            )
        except ImportFormatError as exc:
            raise ValidationError({"file": [str(exc)]}) from None
        size = int(request.META.get("CONTENT_LENGTH") or 0)
        if query["run_async"] or size > settings.IMPORT_ASYNC_BYTES:
            transaction.on_commit(lambda: import_run.delay(job.pk))
            job.refresh_from_db()
            return Response(ImportJobOut(job).data, status=status.HTTP_202_ACCEPTED)
        job, task_ids = import_job_run(job_id=job.pk, keep_ids=query["return_task_ids"])
        if job.status == JobStatus.FAILED:
            raise ValidationError(_errors_by_field(job.errors))
        body: dict[str, Any] = {
            "import": job.pk,
            "task_count": job.task_count,
            "annotation_count": job.annotation_count,
            "prediction_count": job.prediction_count,
            # Label Studio sends ``prediction_count``; its SDK's response model reads this name.
            "predictions_count": job.prediction_count,
            "duration": round(time.perf_counter() - started, 3),
        }
        if query["return_task_ids"]:
            body["task_ids"] = task_ids
        return Response(body, status=status.HTTP_201_CREATED)


class PredictionImportOut(serializers.Serializer):
    created = serializers.IntegerField(min_value=0)


class ProjectPredictionImportView(APIView):
    @extend_schema(
        request=PredictionIn(many=True),
        responses={201: PredictionImportOut, **ERRORS},
        description="Label Studio's bulk prediction import: a list of "
        "`{task, result, score?, model_version?}` of this project's tasks, all or nothing.",
    )
    def post(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.MANAGE)
        if not isinstance(request.data, list):
            raise ValidationError({"predictions": ["send a JSON list of predictions"]})
        items = valid_inputs(PredictionIn, request.data)
        created = predictions_create_many(project=project, items=items) if items else []
        return Response({"created": len(created)}, status=status.HTTP_201_CREATED)


def _errors_by_field(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Row errors under ``tasks`` ("row 3 data.text: ..."), file errors under ``file``."""
    out: dict[str, list[str]] = {}
    for e in errors:
        if e.get("row") is not None and e.get("field") != "file":
            field = f" {e['field']}" if e.get("field") else ""
            out.setdefault("tasks", []).append(f"row {e['row']}{field}: {e['message']}")
        else:
            out.setdefault(e.get("field") or "file", []).append(e["message"])
    return out


class ImportJobView(APIView):
    @extend_schema(responses={200: ImportJobOut, **ERRORS})
    def get(self, request: Request, pk: int, import_id: int) -> Response:
        # Managers only: an import's errors quote the rows they refused.
        project = project_or_404(request, pk, Action.MANAGE)
        job = ImportJob.objects.filter(project=project, pk=import_id).first()
        if job is None:
            raise NotFound(f"Import {import_id} not found in project {pk}.")
        return Response(ImportJobOut(job).data)


class ImportJobRetryView(APIView):
    @extend_schema(request=None, responses={202: ImportJobOut, **ERRORS})
    def post(self, request: Request, pk: int, import_id: int) -> Response:
        """Queue a failed import again (its worker died): its saved files are imported."""
        project = project_or_404(request, pk, Action.MANAGE)
        job = ImportJob.objects.filter(project=project, pk=import_id).first()
        if job is None:
            raise NotFound(f"Import {import_id} not found in project {pk}.")
        job = import_job_retry(job=job)
        return Response(ImportJobOut(job).data, status=status.HTTP_202_ACCEPTED)


# --- export -----------------------------------------------------------------------------------
class ExportQuery(serializers.Serializer):
    """Label Studio's export options. The format is ``exportType`` (its UI and docs) or
    ``export_type`` (its SDK); tasks are all, or ``ids`` (its SDK) / ``ids[]`` (its docs)."""

    exportType = serializers.ChoiceField(choices=sorted(FORMATS), required=False)
    export_type = serializers.ChoiceField(choices=sorted(FORMATS), default="JSON")
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_INT), required=False
    )
    download_all_tasks = serializers.BooleanField(required=False, default=False)
    only_annotated = serializers.BooleanField(required=False, allow_null=True, default=None)
    only_ground_truth = serializers.BooleanField(required=False, default=False)
    only_accepted = serializers.BooleanField(required=False, default=False)
    with_predictions = serializers.BooleanField(required=False, default=True)

    def to_filter(self) -> tuple[str, ExportFilter]:
        d = self.validated_data
        only_annotated = (
            d["only_annotated"] if d["only_annotated"] is not None else not d["download_all_tasks"]
        )
        return d.get("exportType") or d["export_type"], ExportFilter(
            only_annotated=only_annotated,
            only_ground_truth=d["only_ground_truth"],
            only_accepted=d["only_accepted"],
            with_predictions=d["with_predictions"],
            task_ids=tuple(sorted(set(d.get("ids", ())))),
        )


def _export_query(data: Any) -> tuple[str, ExportFilter]:
    if isinstance(data, QueryDict) and "ids[]" in data:
        data = data.copy()
        data.setlist("ids", [*data.getlist("ids"), *data.getlist("ids[]")])
    query = ExportQuery(data=data)
    query.is_valid(raise_exception=True)
    return query.to_filter()


class ProjectExportView(APIView):
    @extend_schema(
        parameters=[ExportQuery],
        # Each format streams its own media type (JSON, CSV, ZIP, ...); the JSON ones are a
        # list of task records (their fields depend on the format).
        responses={
            **{(200, t): bytes for t in sorted({f.content_type for f in FORMATS.values()})},
            (200, "application/json"): {"type": "array", "items": {"type": "object"}},
            **ERRORS,
        },
        description="Stream the project in one format. Like Label Studio, only annotated tasks "
        "unless `download_all_tasks=true` (or `only_annotated=false`).",
    )
    def get(self, request: Request, pk: int) -> StreamingHttpResponse:
        project = project_or_404(request, pk, Action.MANAGE)
        export_type, flt = _export_query(request.query_params)
        try:
            stream = export_open(project=project, export_type=export_type, flt=flt)
        except ExportError as exc:
            raise ValidationError({"exportType": [str(exc)]}) from None
        fmt = FORMATS[export_type]
        response = StreamingHttpResponse(stream, content_type=fmt.content_type)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = (
            f'attachment; filename="project-{project.pk}-at-{stamp}.{fmt.extension}"'
        )
        return response


class ExportFormatOut(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    disabled = serializers.BooleanField(help_text="true: the labelling config cannot fill it")


class ExportFormatsView(APIView):
    @extend_schema(responses={200: ExportFormatOut(many=True), **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk)
        usable = {f.name for f in formats_for(project.parsed_config)}
        return Response(
            [
                {
                    "name": f.name,
                    "title": f.title,
                    "description": f.description,
                    "disabled": f.name not in usable,
                }
                for f in FORMATS.values()
            ]
        )


class ExportJobOut(serializers.ModelSerializer):
    waiting = serializers.SerializerMethodField(
        help_text='what holds the job up ("" when nothing does): no worker running, or its '
        "worker went silent"
    )

    class Meta:
        model = ExportJob
        fields = (
            "id", "project", "export_type", "options", "status", "task_count", "size", "error",
            "created_at", "finished_at", "attempts", "heartbeat_at", "waiting",
        )  # fmt: skip

    def get_waiting(self, job: ExportJob) -> str:
        return job_waiting_of(job)


class ExportJobListView(APIView):
    @extend_schema(responses={200: ExportJobOut(many=True), **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.MANAGE)
        return Response(ExportJobOut(project.exports.order_by("-id")[:100], many=True).data)

    @extend_schema(request=ExportQuery, responses={201: ExportJobOut, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.MANAGE)
        export_type, flt = _export_query(request.data)
        if export_type not in {f.name for f in formats_for(project.parsed_config)}:
            raise ValidationError(
                {"exportType": [f"{export_type} does not apply to this project's labelling config"]}
            )
        job = ExportJob.objects.create(
            project=project,
            created_by=request_user(request),
            export_type=export_type,
            options=flt.__dict__,
        )
        transaction.on_commit(lambda: export_run.delay(job.pk))
        job.refresh_from_db()
        return Response(ExportJobOut(job).data, status=status.HTTP_201_CREATED)


def _export_job(request: Request, pk: int, export_id: int) -> ExportJob:
    project = project_or_404(request, pk, Action.MANAGE)
    job = ExportJob.objects.filter(project=project, pk=export_id).first()
    if job is None:
        raise NotFound(f"Export {export_id} not found in project {pk}.")
    return job


class ExportJobView(APIView):
    @extend_schema(responses={200: ExportJobOut, **ERRORS})
    def get(self, request: Request, pk: int, export_id: int) -> Response:
        return Response(ExportJobOut(_export_job(request, pk, export_id)).data)


class ExportJobDownloadView(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): bytes, **ERRORS})
    def get(self, request: Request, pk: int, export_id: int) -> FileResponse:
        job = _export_job(request, pk, export_id)
        if job.status != JobStatus.COMPLETED:
            raise ValidationError({"status": [f"the export is {job.status}, not completed"]})
        fmt = FORMATS[job.export_type]
        return FileResponse(
            default_storage.open(job.file, "rb"),
            as_attachment=True,
            filename=f"project-{job.project_id}-export-{job.pk}.{fmt.extension}",
            content_type=fmt.content_type,
        )


class ExportJobRetryView(APIView):
    @extend_schema(request=None, responses={202: ExportJobOut, **ERRORS})
    def post(self, request: Request, pk: int, export_id: int) -> Response:
        """Queue a failed export again."""
        job = export_job_retry(job=_export_job(request, pk, export_id))
        return Response(ExportJobOut(job).data, status=status.HTTP_202_ACCEPTED)
