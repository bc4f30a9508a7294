"""Cloud storage connections, on Label Studio's paths and field names:
``/api/storages/s3`` (source) and ``/api/storages/export/s3`` (target), each with
``/<id>``, ``/<id>/sync`` and ``/validate``. Project managers only. The credentials are
write-only: no answer ever contains them. A bucket that cannot be used answers 400 naming
the field to fix."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api.inputs import MAX_INT, query_id, valid_input
from projects.api.access import project_or_404
from projects.api.views import ERRORS
from projects.models import Project
from projects.permissions import Action
from tasks.jobs import storage_export_sync, storage_import_sync
from tasks.models import S3ExportStorage, S3ImportStorage, S3StorageBase
from tasks.services.storages import (
    storage_delete,
    storage_save,
    storage_sync_queue,
    storage_validate,
)
from tasks.storage.s3 import StorageError


class _StorageIn(serializers.Serializer):
    project = serializers.IntegerField(min_value=1, max_value=MAX_INT, required=False)
    title = serializers.CharField(max_length=256, required=False, allow_blank=True)
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    bucket = serializers.CharField(max_length=63, required=False)
    prefix = serializers.CharField(max_length=1024, required=False, allow_blank=True)
    regex_filter = serializers.CharField(max_length=512, required=False, allow_blank=True)
    aws_access_key_id = serializers.CharField(max_length=256, required=False, allow_blank=True)
    aws_secret_access_key = serializers.CharField(max_length=256, required=False, allow_blank=True)
    aws_session_token = serializers.CharField(max_length=4096, required=False, allow_blank=True)
    region_name = serializers.CharField(max_length=64, required=False, allow_blank=True)
    s3_endpoint = serializers.URLField(max_length=2048, required=False, allow_blank=True)
    sync_interval = serializers.IntegerField(min_value=0, max_value=525_600, required=False)


class S3ImportStorageIn(_StorageIn):
    use_blob_urls = serializers.BooleanField(required=False)
    presign = serializers.BooleanField(required=False)
    presign_ttl = serializers.IntegerField(min_value=1, max_value=10_080, required=False)
    recursive_scan = serializers.BooleanField(required=False)


class S3ExportStorageIn(_StorageIn):
    pass


_OUT_FIELDS = (
    "id", "type", "project", "title", "description", "bucket", "prefix", "regex_filter",
    "region_name", "s3_endpoint", "status", "traceback", "last_sync", "last_sync_count",
    "sync_interval", "created_at", "synchronizable",
)  # fmt: skip


class S3ImportStorageOut(serializers.ModelSerializer):
    type = serializers.SerializerMethodField()
    synchronizable = serializers.SerializerMethodField()

    class Meta:
        model = S3ImportStorage
        fields = (*_OUT_FIELDS, "use_blob_urls", "presign", "presign_ttl", "recursive_scan")

    def get_type(self, storage: S3StorageBase) -> str:
        return "s3"

    def get_synchronizable(self, storage: S3StorageBase) -> bool:
        return True


class S3ExportStorageOut(S3ImportStorageOut):
    class Meta:
        model = S3ExportStorage
        fields = _OUT_FIELDS


def _bad_bucket(exc: StorageError) -> ValidationError:
    return ValidationError({exc.field: [str(exc)]})


class _Kind(APIView):
    """What differs between source and target storages."""

    model: ClassVar[type[S3StorageBase]]
    input: ClassVar[type[serializers.Serializer]]
    output: ClassVar[type[serializers.ModelSerializer]]
    job: ClassVar[Any]

    def storage_or_404(self, request: Request, pk: int) -> S3StorageBase:
        storage = self.model._default_manager.filter(pk=pk).first()
        try:
            project_or_404(request, storage.project_id if storage else 0, Action.MANAGE)
        except NotFound:
            raise NotFound(f"Storage {pk} not found.") from None
        assert storage is not None
        return storage

    def project_from(self, request: Request, data: dict[str, Any]) -> Project:
        if "project" not in data:
            raise ValidationError({"project": ["This field is required."]})
        return project_or_404(request, data.pop("project"), Action.MANAGE)


class _ListView(_Kind):
    def get(self, request: Request) -> Response:
        project_id = query_id(request.query_params, "project", required=True)
        assert project_id is not None
        project = project_or_404(request, project_id, Action.MANAGE)
        storages = self.model._default_manager.filter(project=project).order_by("id")
        return Response(self.output(storages, many=True).data)

    def post(self, request: Request) -> Response:
        data = valid_input(self.input, request.data)
        project = self.project_from(request, data)
        if not data.get("bucket"):
            raise ValidationError({"bucket": ["This field is required."]})
        try:
            storage = storage_save(storage=self.model(project=project), fields=data)
        except StorageError as exc:
            raise _bad_bucket(exc) from None
        return Response(self.output(storage).data, status=status.HTTP_201_CREATED)


class _ValidateView(_Kind):
    def post(self, request: Request) -> Response:
        """Check a connection without saving it; with ``id``, the stored one changed by
        the fields given (the stored secrets stand in for those left out)."""
        data = valid_input(self.input, request.data)
        raw_id = request.data.get("id") if isinstance(request.data, dict) else None
        if raw_id is not None:
            storage = self.storage_or_404(request, query_id({"id": str(raw_id)}, "id") or 0)
            data.pop("project", None)
        else:
            storage = self.model(project=self.project_from(request, data))
        for name, value in data.items():
            setattr(storage, name, value)
        try:
            storage_validate(storage=storage)
        except StorageError as exc:
            raise _bad_bucket(exc) from None
        return Response({"ok": True})


class _DetailView(_Kind):
    def get(self, request: Request, pk: int) -> Response:
        return Response(self.output(self.storage_or_404(request, pk)).data)

    def patch(self, request: Request, pk: int) -> Response:
        storage = self.storage_or_404(request, pk)
        data = valid_input(self.input, request.data)
        data.pop("project", None)
        try:
            storage = storage_save(storage=storage, fields=data)
        except StorageError as exc:
            raise _bad_bucket(exc) from None
        return Response(self.output(storage).data)

    def delete(self, request: Request, pk: int) -> Response:
        storage_delete(storage=self.storage_or_404(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class _SyncView(_Kind):
    def post(self, request: Request, pk: int) -> Response:
        storage = storage_sync_queue(storage=self.storage_or_404(request, pk))
        job = self.job
        transaction.on_commit(lambda: job.delay(storage.pk))
        return Response(self.output(storage).data)


_PROJECT = OpenApiParameter("project", int, required=True)


def _documented(cls: type[_Kind], kind: str) -> type[_Kind]:
    """OpenAPI descriptions for one kind's view (the methods are shared)."""
    inp, out = cls.input, cls.output
    docs: dict[str, dict[str, Any]] = {
        "get": {"responses": {200: out(many=True), **ERRORS}, "parameters": [_PROJECT]},
        "post": {"request": inp, "responses": {201: out, **ERRORS}},
    }
    if issubclass(cls, _DetailView):
        docs = {
            "get": {"responses": {200: out, **ERRORS}},
            "patch": {"request": inp, "responses": {200: out, **ERRORS}},
            "delete": {"responses": {204: None, **ERRORS}},
        }
    elif issubclass(cls, _SyncView):
        docs = {"post": {"request": None, "responses": {200: out, **ERRORS}}}
    elif issubclass(cls, _ValidateView):
        docs = {"post": {"request": inp, "responses": {200: dict, **ERRORS}}}
    for method, options in docs.items():
        # A fresh function per class: extend_schema annotates the function object, which
        # the source and target views would otherwise share.
        shared = getattr(cls, method)

        def view(self: _Kind, *args: Any, _shared: Any = shared, **kwargs: Any) -> Response:
            return _shared(self, *args, **kwargs)  # type: ignore[no-any-return]

        view.__name__ = method
        setattr(cls, method, extend_schema(description=f"{kind} storage (S3).", **options)(view))
    return cls


_SOURCE: dict[str, Any] = {
    "model": S3ImportStorage,
    "input": S3ImportStorageIn,
    "output": S3ImportStorageOut,
    "job": storage_import_sync,
}
_TARGET: dict[str, Any] = {
    "model": S3ExportStorage,
    "input": S3ExportStorageIn,
    "output": S3ExportStorageOut,
    "job": storage_export_sync,
}


def _view(base: type[_Kind], kind: dict[str, Any], name: str, title: str) -> type[_Kind]:
    return _documented(type(name, (base,), dict(kind)), title)


S3ImportListView = _view(_ListView, _SOURCE, "S3ImportListView", "Source")
S3ImportDetailView = _view(_DetailView, _SOURCE, "S3ImportDetailView", "Source")
S3ImportSyncView = _view(_SyncView, _SOURCE, "S3ImportSyncView", "Source")
S3ImportValidateView = _view(_ValidateView, _SOURCE, "S3ImportValidateView", "Source")
S3ExportListView = _view(_ListView, _TARGET, "S3ExportListView", "Target")
S3ExportDetailView = _view(_DetailView, _TARGET, "S3ExportDetailView", "Target")
S3ExportSyncView = _view(_SyncView, _TARGET, "S3ExportSyncView", "Target")
S3ExportValidateView = _view(_ValidateView, _TARGET, "S3ExportValidateView", "Target")
