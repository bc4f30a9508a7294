"""A config change that stored annotations no longer fit is refused, naming what they use."""

from __future__ import annotations

import pytest

from tasks.models import Task
from tasks.services import annotation_create
from tasks.services.config_usage import annotation_label_usage
from tests.api_helpers import api
from tests.factories import NER_CONFIG, choice, make_project, span

pytestmark = pytest.mark.django_db

WITHOUT_LOC = NER_CONFIG.replace('<Label value="LOC" hotkey="l"/>', "")
WITHOUT_PER = NER_CONFIG.replace('<Label value="PER" hotkey="p"/>', "")
WITHOUT_INTENT = NER_CONFIG.split("<Choices")[0] + "</View>"
INTENT_AS_TEXT = WITHOUT_INTENT.replace("</View>", '<TextArea name="intent" toName="text"/></View>')


def _annotated_project():
    project = make_project()
    task = Task.objects.create(project=project, data={"text": "Ann lives here"})
    for result in ([span(0, 3, "Ann", "PER"), choice("greet")], [choice("greet", "c2")], []):
        annotation_create(task=task, user=project.created_by, result=result)
    return project


def _patch(project, config):
    return api(project.created_by).patch(
        f"/api/projects/{project.pk}", {"label_config": config}, format="json"
    )


def test_usage_is_summed_by_the_database():
    project = _annotated_project()
    uses = {
        (u.control, u.type, u.label): u.annotations
        for u in annotation_label_usage(project_id=project.pk)
    }
    assert uses == {("label", "labels", "PER"): 1, ("intent", "choices", "greet"): 2}


def test_dropping_an_unused_label_is_allowed():
    project = _annotated_project()
    response = _patch(project, WITHOUT_LOC)
    assert response.status_code == 200, response.json()
    project.refresh_from_db()
    assert "LOC" not in project.label_config


def test_dropping_a_used_label_is_refused_and_nothing_changes():
    project = _annotated_project()
    response = _patch(project, WITHOUT_PER)
    assert response.status_code == 400
    problems = response.json()["validation_errors"]["label_config"]
    assert any("'PER'" in p and "'label'" in p and "1 annotation" in p for p in problems)
    project.refresh_from_db()
    assert project.label_config == NER_CONFIG


def test_dropping_a_used_control_or_changing_its_kind_is_refused():
    project = _annotated_project()
    gone = _patch(project, WITHOUT_INTENT)
    assert gone.status_code == 400
    assert any(
        "control 'intent'" in p and "at least 2" in p
        for p in gone.json()["validation_errors"]["label_config"]
    )
    changed = _patch(project, INTENT_AS_TEXT)
    assert changed.status_code == 400
    assert any(
        "'choices' results" in p for p in changed.json()["validation_errors"]["label_config"]
    )


def test_a_nested_choice_in_use_still_counts_as_present():
    nested = NER_CONFIG.replace(
        '<Choice value="greet" hotkey="1"/>',
        '<Choice value="social"><Choice value="greet"/></Choice>',
    ).replace('choice="single"', 'choice="single" allowNested="true"')
    project = _annotated_project()
    assert _patch(project, nested).status_code == 200


def test_without_annotations_any_valid_config_goes():
    project = make_project()
    assert _patch(project, WITHOUT_INTENT).status_code == 200


def test_the_project_validate_endpoint_runs_the_same_check():
    project = _annotated_project()
    client = api(project.created_by)
    refused = client.post(
        f"/api/projects/{project.pk}/validate", {"label_config": WITHOUT_PER}, format="json"
    )
    assert refused.status_code == 400 and "'PER'" in str(
        refused.json()["validation_errors"]["label_config"]
    )
    fine = client.post(
        f"/api/projects/{project.pk}/validate", {"label_config": WITHOUT_LOC}, format="json"
    )
    assert fine.status_code == 200
