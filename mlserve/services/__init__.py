from mlserve.services.backends import ml_backend_create, ml_backend_update
from mlserve.services.common import model_version_activate, project_language, validation_split
from mlserve.services.entities import (
    EntityExample,
    entity_controls,
    entity_examples,
    entity_model_load,
)
from mlserve.services.preannotate import french_preannotate, ner_label_map
from mlserve.services.training import (
    TrainingExample,
    intent_controls,
    model_load,
    model_version_create,
    model_version_train,
    predictions_write,
    retrain_due,
    task_embeddings,
    trainable_controls,
    training_examples,
)

__all__ = [
    "EntityExample",
    "TrainingExample",
    "entity_controls",
    "entity_examples",
    "entity_model_load",
    "french_preannotate",
    "intent_controls",
    "ml_backend_create",
    "ml_backend_update",
    "model_load",
    "model_version_activate",
    "model_version_create",
    "model_version_train",
    "ner_label_map",
    "predictions_write",
    "project_language",
    "retrain_due",
    "task_embeddings",
    "trainable_controls",
    "training_examples",
    "validation_split",
]
