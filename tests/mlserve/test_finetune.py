"""Optional full fine-tuning of the transformer (ProjectMLSettings.finetune) and Monte-Carlo
dropout probabilities for active learning. On the CPU the fine-tuning runs a few steps on a
few dozen texts, torch on one thread."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from annotator.demo.text import generate_utterances
from mlserve.builtin.finetune import FineTunedIntentClassifier
from mlserve.models import FinetuneMode, ProjectMLSettings
from mlserve.services import (
    finetune_wanted,
    mc_dropout_probabilities,
    model_load,
    model_version_create,
    model_version_train,
    predictions_write,
)
from mlserve.services.intents import _model_at
from tasks.models import Prediction
from tasks.services import tasks_import
from tests.factories import make_project

pytestmark = pytest.mark.django_db

INTENTS = ("track_order", "request_refund", "account_access")
CONFIG = """<View><Text name="text" value="$text"/>
<Choices name="intent" toName="text">{}</Choices></View>""".format(
    "".join(f'<Choice value="{i}"/>' for i in INTENTS)
)


@pytest.fixture(autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _project(n=32, finetune=FinetuneMode.ON):
    utterances = [
        u for u in generate_utterances(400, seed=21) if u.lang == "en" and u.intent in INTENTS
    ][:n]
    project = make_project(label_config=CONFIG)
    ProjectMLSettings.objects.create(project=project, finetune=finetune)
    item = {"from_name": "intent", "to_name": "text", "type": "choices"}
    items = [
        {
            "data": {"text": u.text},
            "annotations": [{"result": [{**item, "value": {"choices": [u.intent]}}]}],
        }
        for u in utterances
    ]
    if items:
        tasks_import(project=project, items=items, user=project.created_by)
    return project


def test_finetune_auto_fine_tunes_only_when_torch_sees_a_gpu():
    project = _project(n=0, finetune=FinetuneMode.AUTO)
    assert finetune_wanted(project=project) is torch.cuda.is_available()
    project.ml_settings.finetune = FinetuneMode.OFF
    assert finetune_wanted(project=project) is False
    project.ml_settings.finetune = FinetuneMode.ON
    assert finetune_wanted(project=project) is True
    assert ProjectMLSettings().finetune == FinetuneMode.OFF  # off unless asked


def test_finetune_on_trains_the_transformer_into_a_version_artifact(media_root):
    project = _project()
    version = model_version_create(project=project, control="intent")
    model_version_train(version=version)
    version.refresh_from_db()
    tuned = version.metrics["finetuned"]
    assert version.status == "ready" and version.is_active and version.encoder == "minilm"
    assert tuned["steps"] >= 2 and tuned["stopped_by"] == "epochs" and tuned["device"] == "cpu"
    assert sorted(version.metrics["classes"]) == sorted(INTENTS)
    assert 0 <= version.metrics["accuracy"] <= 1 and version.validation_size > 0
    _model_at.cache_clear()  # read back from storage, the network rebuilt from its state
    model = model_load(version)
    assert isinstance(model, FineTunedIntentClassifier)
    texts = ["Where is my parcel?", "I cannot sign in to my account"]
    first, again = model.predict_proba(texts), model.predict_proba(texts)
    assert np.allclose(first, again) and np.allclose(first.sum(axis=1), 1, atol=1e-5)
    # Predictions of a fine-tuned version need no sentence embeddings.
    ids = list(
        tasks_import(project=project, items=[{"text": t} for t in texts], user=None).task_ids
    )
    assert predictions_write(version=version, task_ids=ids) == 2
    for prediction in Prediction.objects.filter(task_id__in=ids):
        project.parsed_config.validate_result(prediction.result)


def test_mc_dropout_of_a_finetuned_version_gives_one_distribution_per_pass(media_root):
    project = _project(n=24)
    version = model_version_create(project=project, control="intent")
    model_version_train(version=version, promote=False)
    version.refresh_from_db()
    texts = ["Where is my parcel?", "Refund me please", "Password reset is broken"]
    passes = mc_dropout_probabilities(version=version, texts=texts, passes=5)
    assert passes.shape == (5, 3, len(INTENTS))
    assert np.allclose(passes.sum(axis=2), 1, atol=1e-5)
    assert not np.allclose(passes[0], passes[1])  # dropout was on
    assert mc_dropout_probabilities(version=version, texts=[], passes=2).shape == (2, 0, 3)


def test_mc_dropout_of_a_head_version_drops_its_input_features(media_root):
    project = _project(n=60, finetune=FinetuneMode.OFF)
    version = model_version_create(project=project, control="intent")
    model_version_train(version=version)
    version.refresh_from_db()
    assert "finetuned" not in version.metrics
    texts = ["Where is my parcel?", "Refund me please", "I cannot log in"]
    passes = mc_dropout_probabilities(version=version, texts=texts)
    assert passes.shape == (10, 3, len(INTENTS)) and passes.dtype == np.float32
    assert np.allclose(passes.sum(axis=2), 1, atol=1e-5)
    assert passes.std(axis=0).max() > 0
    model = model_load(version)
    from mlserve.builtin.encoders import encode

    plain = model.predict_proba(texts, encode(texts, encoder=version.encoder))
    assert (passes.mean(axis=0).argmax(axis=1) == plain.argmax(axis=1)).mean() >= 2 / 3
    with pytest.raises(ValueError, match="passes"):
        mc_dropout_probabilities(version=version, texts=texts, passes=0)


def test_a_head_after_a_finetuned_version_starts_cold_and_is_compared_with_it(media_root):
    project = _project(n=32)
    tuned = model_version_create(project=project, control="intent")
    model_version_train(version=tuned)
    project.ml_settings.finetune = FinetuneMode.OFF
    project.ml_settings.save()
    head = model_version_create(project=project, control="intent")
    model_version_train(version=head)
    head.refresh_from_db()
    assert "finetuned" not in head.metrics and "warm_start" not in head.metrics
    assert head.metrics["compared_with"]["version"] == tuned.name
