"""project_backup / project_restore: a round trip compares every row of every archived table."""

from __future__ import annotations

import json
import tarfile

import numpy as np
import pytest
from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.management import CommandError, call_command

from activelearn.models import QueueSettings
from annotator.models import AuditEvent
from mlserve.models import ModelVersion, PredictionProbabilities
from projects.backup import _USER_FIELDS, RestoreError, project_backup, project_restore
from projects.models import Organization, Project, Webhook
from projects.services import project_delete
from tasks.models import Annotation, Draft, Prediction, Task
from tasks.services import annotation_create, tasks_import
from tests.factories import add_member, choice, hand_task, make_project, make_user


def _world():
    project = make_project(title="Backed up <b>project</b>")
    reviewer, annotator = make_user("rita"), make_user("anna")
    add_member(project, reviewer, "reviewer")
    add_member(project, annotator, "annotator")
    tasks_import(
        project=project,
        items=[
            {
                "data": {"text": f"text {i}"},
                "predictions": [{"result": [choice("ask")], "score": 0.4}],
            }
            for i in range(5)
        ],
        user=project.created_by,
    )
    tasks = list(Task.objects.filter(project=project).order_by("pk"))
    hand_task(tasks[0].pk, annotator)
    first = annotation_create(task=tasks[0], user=annotator, result=[choice()], lead_time=3.5)
    Annotation.objects.filter(pk=first.pk).update(review_status="accepted", ground_truth=True)
    annotation_create(task=tasks[1], user=reviewer, result=[choice("ask")])
    Draft.objects.create(task=tasks[2], user=annotator, result=[choice()], notes="later")
    version = ModelVersion.objects.create(
        project=project, control="intent", kind="intent", number=1, name="intent-v1",
        metrics={"classes": ["ask", "greet"], "accuracy": 0.5},
    )  # fmt: skip
    prediction = Prediction.objects.filter(task=tasks[3]).first()
    PredictionProbabilities.objects.create(
        prediction=prediction,
        version=version,
        probabilities=np.array([0.4, 0.6], "float32").tobytes(),
    )
    QueueSettings.objects.create(project=project, batch_size=50)
    Webhook.objects.create(
        organization=project.organization, project=project, url="http://h.example/x"
    )
    return project


def _dump(labels: list[str], keys: dict[str, set]) -> dict[str, dict]:
    """Every row of those tables whose key is in ``keys`` (what the archive held)."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    found = {}
    for label in labels:
        model = apps.get_model(label)
        fields = _USER_FIELDS if model is user_model else None
        rows = model._default_manager.filter(pk__in=keys[label]).order_by("pk")
        found[label] = {
            row["pk"]: row["fields"]
            for row in json.loads(serializers.serialize("json", rows, fields=fields))
        }
    return found


def _archive_keys(path) -> tuple[list[str], dict[str, set]]:
    with tarfile.open(path) as archive:
        manifest = json.loads(archive.extractfile("manifest.json").read())
        keys = {
            label: {
                json.loads(line)["pk"]
                for line in archive.extractfile(f"{label}.jsonl").read().decode().splitlines()
            }
            for label in manifest["order"]
        }
    return manifest["order"], keys


@pytest.mark.django_db
def test_a_restored_project_equals_the_backed_up_one_row_for_row(tmp_path):
    project = _world()
    path = tmp_path / "project.tar.gz"
    summary = project_backup(project=project, path=path)
    labels, keys = _archive_keys(path)
    assert summary.counts["tasks.task"] == 5
    assert summary.counts["tasks.annotation"] == 2
    assert summary.counts["annotator.user"] == 3
    assert summary.counts["annotator.auditevent"] >= 3
    for label in ("tasks.draft", "tasks.prediction", "mlserve.predictionprobabilities",
                  "mlserve.modelversion", "activelearn.queuesettings", "projects.projectmember",
                  "projects.webhook", "tasks.taskassignment"):  # fmt: skip
        assert summary.counts[label] >= 1, label
    before = _dump(labels, keys)
    users = list(
        apps.get_model(settings.AUTH_USER_MODEL).objects.filter(pk__in=keys["annotator.user"])
    )
    organization, project_id = project.organization, project.pk
    project_delete(project=project)
    for user in users:
        user.delete()
    organization.delete()
    assert not Task.objects.exists()

    restored = project_restore(path=path)

    after = _dump(labels, keys)
    assert after == before
    assert sum(restored.counts.values()) > 0
    assert Project.objects.get(pk=project_id).title == "Backed up <b>project</b>"
    # Accounts come back without a password (reset or SSO), the same otherwise.
    anna = apps.get_model(settings.AUTH_USER_MODEL).objects.get(username="anna")
    assert not anna.has_usable_password()


@pytest.mark.django_db
def test_restoring_into_the_database_it_came_from_changes_nothing(tmp_path):
    project = _world()
    path = tmp_path / "p.tar.gz"
    project_backup(project=project, path=path)
    audit_rows = AuditEvent.objects.count()
    summary = project_restore(path=path)
    assert sum(summary.counts.values()) == 0
    assert AuditEvent.objects.count() == audit_rows


@pytest.mark.django_db
def test_a_conflicting_row_stops_the_restore_and_nothing_is_written(tmp_path):
    project = _world()
    path = tmp_path / "p.tar.gz"
    project_backup(project=project, path=path)
    task = Task.objects.filter(project=project).order_by("pk").last()
    Task.objects.filter(pk=task.pk).update(data={"text": "changed since"})
    Draft.objects.all().delete()  # the restore would write this one back...
    with pytest.raises(RestoreError, match=f"tasks.task {task.pk} exists with other values"):
        project_restore(path=path)
    assert not Draft.objects.exists()  # ...but the whole restore rolled back


@pytest.mark.django_db
def test_the_commands_name_what_is_wrong(tmp_path, capsys):
    project = _world()
    path = tmp_path / "p.tar.gz"
    call_command("project_backup", str(project.pk), str(path))
    assert f"project {project.pk}" in capsys.readouterr().out
    with pytest.raises(CommandError, match="no such project"):
        call_command("project_backup", "999999", str(tmp_path / "x.tar.gz"))
    with pytest.raises(CommandError, match="no such file"):
        call_command("project_restore", str(tmp_path / "missing.tar.gz"))
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive")
    with pytest.raises(CommandError, match=r"not a readable tar\.gz archive"):
        call_command("project_restore", str(junk))
    empty = tmp_path / "empty.tar.gz"
    with tarfile.open(empty, "w:gz"):
        pass
    with pytest.raises(CommandError, match=r"no manifest\.json"):
        call_command("project_restore", str(empty))
    assert Organization.objects.filter(pk=project.organization_id).exists()
