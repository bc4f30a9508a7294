from annotator.api.paths import api_path
from tasks.api import bulk, datamanager, storages, transfers, views
from tasks.api.labelling import (
    CertificationView,
    LabelDraftView,
    LabelEntitiesView,
    LabelNextView,
    LabelProgressView,
    LabelSimilarView,
    LabelSkipView,
    LabelSubmitView,
    LabelTaskView,
)

# Next-task and submit, the two requests of every labelled task: annotator/api/urls.py
# lists them first, since the resolver tries its ~230 patterns in order (5 % of a request's
# CPU was spent reaching these two).
hot_urlpatterns = [
    *api_path("projects/<int:pk>/next", views.NextTaskView.as_view(), "project-next"),
    *api_path(
        "tasks/<int:pk>/annotations", views.TaskAnnotationsView.as_view(), "task-annotations"
    ),
]

urlpatterns = [
    *api_path("tasks", views.TaskListView.as_view(), "task-list"),
    *api_path("tasks/<int:pk>", views.TaskDetailView.as_view(), "task-detail"),
    *api_path("tasks/<int:pk>/drafts", views.TaskDraftsView.as_view(), "task-drafts"),
    *api_path("tasks/<int:pk>/skip", views.TaskSkipView.as_view(), "task-skip"),
    *api_path("tasks/<int:pk>/lock", views.TaskLockView.as_view(), "task-lock"),
    *api_path("annotations/<int:pk>", views.AnnotationDetailView.as_view(), "annotation-detail"),
    *api_path("drafts/<int:pk>", views.DraftDetailView.as_view(), "draft-detail"),
    *api_path("predictions", views.PredictionListView.as_view(), "prediction-list"),
    *api_path("predictions/<int:pk>", views.PredictionDetailView.as_view(), "prediction-detail"),
    *api_path("projects/<int:pk>/tasks", views.ProjectTaskListView.as_view(), "project-tasks"),
    *api_path("projects/<int:pk>/import", transfers.ProjectImportView.as_view(), "project-import"),
    *api_path(
        "projects/<int:pk>/import/predictions",
        transfers.ProjectPredictionImportView.as_view(),
        "project-import-predictions",
    ),
    *api_path(
        "projects/<int:pk>/imports/<int:import_id>",
        transfers.ImportJobView.as_view(),
        "project-import-job",
    ),
    *api_path(
        "projects/<int:pk>/imports/<int:import_id>/retry",
        transfers.ImportJobRetryView.as_view(),
        "project-import-retry",
    ),
    *api_path("projects/<int:pk>/export", transfers.ProjectExportView.as_view(), "project-export"),
    *api_path(
        "projects/<int:pk>/export/formats",
        transfers.ExportFormatsView.as_view(),
        "project-export-formats",
    ),
    *api_path(
        "projects/<int:pk>/exports", transfers.ExportJobListView.as_view(), "project-exports"
    ),
    *api_path(
        "projects/<int:pk>/exports/<int:export_id>",
        transfers.ExportJobView.as_view(),
        "project-export-job",
    ),
    *api_path(
        "projects/<int:pk>/exports/<int:export_id>/download",
        transfers.ExportJobDownloadView.as_view(),
        "project-export-download",
    ),
    *api_path(
        "projects/<int:pk>/exports/<int:export_id>/retry",
        transfers.ExportJobRetryView.as_view(),
        "project-export-retry",
    ),
    *api_path("projects/<int:pk>/data", datamanager.DataPageView.as_view(), "project-data"),
    *api_path(
        "projects/<int:pk>/data/count", datamanager.DataCountView.as_view(), "project-data-count"
    ),
    *api_path(
        "projects/<int:pk>/data/next-after",
        datamanager.DataNextAfterView.as_view(),
        "project-data-next-after",
    ),
    *api_path(
        "projects/<int:pk>/data/actions/assign", bulk.BulkAssignView.as_view(), "data-assign"
    ),
    *api_path("projects/<int:pk>/data/actions/label", bulk.BulkLabelView.as_view(), "data-label"),
    *api_path(
        "projects/<int:pk>/data/actions/delete", bulk.BulkDeleteView.as_view(), "data-delete"
    ),
    *api_path(
        "projects/<int:pk>/data/actions/review", bulk.BulkReviewView.as_view(), "data-review"
    ),
    *api_path(
        "projects/<int:pk>/data/actions/retrain", bulk.BulkRetrainView.as_view(), "data-retrain"
    ),
]

# The labelling interface (tasks/api/labelling.py).
urlpatterns += [
    *api_path("tasks/<int:pk>/label", LabelTaskView.as_view(), "task-label"),
    *api_path("tasks/<int:pk>/label/submit", LabelSubmitView.as_view(), "task-label-submit"),
    *api_path("tasks/<int:pk>/label/skip", LabelSkipView.as_view(), "task-label-skip"),
    *api_path("tasks/<int:pk>/label/draft", LabelDraftView.as_view(), "task-label-draft"),
    *api_path("tasks/<int:pk>/label/similar", LabelSimilarView.as_view(), "task-label-similar"),
    *api_path("tasks/<int:pk>/label/entities", LabelEntitiesView.as_view(), "task-label-entities"),
    *api_path("projects/<int:pk>/label/next", LabelNextView.as_view(), "project-label-next"),
    *api_path(
        "projects/<int:pk>/label/progress", LabelProgressView.as_view(), "project-label-progress"
    ),
    *api_path(
        "projects/<int:pk>/certification", CertificationView.as_view(), "project-certification"
    ),
]

# Cloud storage connections (tasks/api/storages.py), Label Studio's paths.
urlpatterns += [
    *api_path("storages/s3", storages.S3ImportListView.as_view(), "storage-s3-list"),
    *api_path(
        "storages/s3/validate", storages.S3ImportValidateView.as_view(), "storage-s3-validate"
    ),
    *api_path("storages/s3/<int:pk>", storages.S3ImportDetailView.as_view(), "storage-s3-detail"),
    *api_path("storages/s3/<int:pk>/sync", storages.S3ImportSyncView.as_view(), "storage-s3-sync"),
    *api_path("storages/export/s3", storages.S3ExportListView.as_view(), "storage-export-s3-list"),
    *api_path(
        "storages/export/s3/validate",
        storages.S3ExportValidateView.as_view(),
        "storage-export-s3-validate",
    ),
    *api_path(
        "storages/export/s3/<int:pk>",
        storages.S3ExportDetailView.as_view(),
        "storage-export-s3-detail",
    ),
    *api_path(
        "storages/export/s3/<int:pk>/sync",
        storages.S3ExportSyncView.as_view(),
        "storage-export-s3-sync",
    ),
]
