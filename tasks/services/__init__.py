"""Writes of the tasks app, one module per use-case family; import from here."""

from tasks.services.annotations import (
    annotation_create,
    annotation_delete,
    annotation_update,
    prediction_create,
    task_skip,
)
from tasks.services.bulk_actions import (
    BulkResult,
    retrain_handler_register,
    tasks_assign,
    tasks_delete_selected,
    tasks_label,
    tasks_retrain,
    tasks_send_to_review,
)
from tasks.services.common import (
    MAX_REPORTED_ERRORS,
    AnnotationConflict,
    DraftConflict,
    StaleVersion,
    result_check,
    task_counters_refresh,
    task_overlap_for,
)
from tasks.services.edits import (
    draft_save,
    prediction_delete,
    prediction_update,
    predictions_create_many,
    task_update,
    tasks_delete,
)
from tasks.services.imports import IMPORT_BATCH, ImportRowsError, ImportSummary, tasks_import
from tasks.services.next import (
    task_lock_extend,
    task_lock_release,
    task_locks_expired_delete,
    task_next_take,
)

__all__ = [
    "IMPORT_BATCH",
    "MAX_REPORTED_ERRORS",
    "AnnotationConflict",
    "BulkResult",
    "DraftConflict",
    "ImportRowsError",
    "ImportSummary",
    "StaleVersion",
    "annotation_create",
    "annotation_delete",
    "annotation_update",
    "draft_save",
    "prediction_create",
    "prediction_delete",
    "prediction_update",
    "predictions_create_many",
    "result_check",
    "retrain_handler_register",
    "task_counters_refresh",
    "task_lock_extend",
    "task_lock_release",
    "task_locks_expired_delete",
    "task_next_take",
    "task_overlap_for",
    "task_skip",
    "task_update",
    "tasks_assign",
    "tasks_delete",
    "tasks_delete_selected",
    "tasks_import",
    "tasks_label",
    "tasks_retrain",
    "tasks_send_to_review",
]
