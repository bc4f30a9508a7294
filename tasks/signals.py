"""Signals of the tasks app, for the apps above it (DESIGN §2: tasks never imports them)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after an annotation with a result is created or updated; kwargs ``annotation`` and
# ``created``. annotation_create is the hottest write: a receiver must stay O(1) (no query
# unless cached) and queue its work with ``transaction.on_commit``, never do it inline.
annotation_saved = Signal()

# Sent inside the import's transaction after its tasks are written; kwargs ``project`` and
# ``after_id``: the new tasks are the project's tasks with a larger id. A receiver may write
# to those tasks (quality's overlap sampling does) with set-based statements.
tasks_imported = Signal()

# Sent after an annotation is deleted (inside the transaction); kwargs ``task_id`` and
# ``project_id``. Receivers queue their work with ``transaction.on_commit``.
annotation_deleted = Signal()
