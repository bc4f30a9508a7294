from mlserve.services.backends import ml_backend_create, ml_backend_update
from mlserve.services.training import (
    TrainingExample,
    intent_controls,
    model_load,
    model_version_activate,
    model_version_create,
    model_version_train,
    predictions_write,
    retrain_due,
    task_embeddings,
    task_texts,
    training_examples,
    validation_split,
)

__all__ = [
    "TrainingExample",
    "intent_controls",
    "ml_backend_create",
    "ml_backend_update",
    "model_load",
    "model_version_activate",
    "model_version_create",
    "model_version_train",
    "predictions_write",
    "retrain_due",
    "task_embeddings",
    "task_texts",
    "training_examples",
    "validation_split",
]
