"""The pairwise (causal-LM) scorer mode with a tiny randomly initialised Llama built here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from recstream.llm.model import ModelLoadError, default_model_path
from recstream.llm.pairwise import PROMPT, PairScorer, score_pairwise
from recstream.llm.scoring import ItemEmbeddings, ScoreRequest
from recstream.settings import Settings

PAIRS = [("space war; alien", "Star Wars (1977). Action, Sci-Fi"),
         ("love story", "Sleepless in Seattle"),
         ("", "x"),
         ("a much longer history of many titles: " + "Toy Story; " * 12, "Toy Story 2"),
         ("space war; alien", "Sleepless in Seattle")]


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 32-wide Llama with MiniLM's tokenizer, saved like any HF model dir."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    out = tmp_path_factory.mktemp("tiny-llama")
    tok = AutoTokenizer.from_pretrained(default_model_path(), local_files_only=True)
    tok.save_pretrained(out)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64,
                      num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                      max_position_embeddings=256, pad_token_id=tok.pad_token_id)
    torch.manual_seed(0)
    LlamaForCausalLM(cfg).save_pretrained(out)
    return out


def reference(scorer: PairScorer, user: str, item: str) -> float:
    """Mean log-prob of the item tokens from one unpadded full-logits forward pass."""
    tok = scorer.tokenizer
    prompt = tok(PROMPT.format(user=user))["input_ids"]
    item_ids = tok(item, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([prompt + item_ids])
    with torch.inference_mode():
        logp = torch.log_softmax(scorer.model(input_ids=ids).logits[0].float(), dim=-1)
    lp = [logp[len(prompt) - 1 + j, t] for j, t in enumerate(item_ids)]
    return float(torch.exp(torch.stack(lp).mean()))


def test_pairs_are_scored_in_batches_and_match_an_unbatched_reference(tiny_lm: Path) -> None:
    scorer = PairScorer(tiny_lm, device="cpu", batch_size=2)
    scores = scorer.score_pairs(PAIRS)
    assert scorer.forward_passes == 3 and scorer.texts_encoded == 5  # ceil(5 / 2) passes
    assert scores.shape == (5,) and np.isfinite(scores).all()
    assert ((scores > 0) & (scores <= 1)).all()
    # right padding and gathering the item positions change nothing: same as one pair alone
    want = [reference(scorer, u, i) for u, i in PAIRS]
    assert np.allclose(scores, want, rtol=1e-4)
    # the same user scores its two candidates differently (the item text matters)
    assert scores[0] != scores[4]


def test_scores_and_their_order_are_deterministic(tiny_lm: Path) -> None:
    a = PairScorer(tiny_lm, device="cpu", batch_size=4).score_pairs(PAIRS)
    b = PairScorer(tiny_lm, device="cpu", batch_size=1).score_pairs(PAIRS)
    c = PairScorer(tiny_lm, device="cpu", batch_size=4).score_pairs(PAIRS)
    assert np.array_equal(a, c)
    assert np.allclose(a, b, rtol=1e-5)
    assert list(np.argsort(-a, kind="stable")) == list(np.argsort(-b, kind="stable"))


def test_score_pairwise_batches_all_requests_pairs_together(tiny_lm: Path) -> None:
    scorer = PairScorer(tiny_lm, device="cpu", batch_size=16)
    items = ItemEmbeddings(None)  # pairwise mode keeps texts, embeds nothing
    for i, t in enumerate(["Space war", "Love story", "Toy story"]):
        items.upsert({"item_id": str(i), "title": t, "tags": ["Drama"]})
    reqs = [ScoreRequest("r1", "u1", ["0", "1", "9"], [("2", 1.0)], ["toy"]),
            ScoreRequest("r2", "u2", ["1", "2"], [("0", 4.0)], ["space"]),
            ScoreRequest("r3", "u3", ["0"], [], [])]  # no user text: no scores
    out = score_pairwise(reqs, items, scorer)
    assert scorer.forward_passes == 1 and scorer.texts_encoded == 4  # 4 known pairs, 1 pass
    assert set(out[0]) == {"0", "1", "9"} and out[0]["9"] == 0.0  # unknown item
    assert 0 < out[0]["0"] <= 1 and out[0]["0"] != out[0]["1"]
    assert set(out[1]) == {"1", "2"} and out[2] == {}
    assert len(items) == 3 and items.ids() == ["0", "1", "2"]


def test_the_setting_selects_the_mode_in_the_scorer_service(tiny_lm: Path) -> None:
    from streams.scorer import ScorerService, load_scoring_model

    s = Settings(scorer={"mode": "pairwise", "pairwise_model": str(tiny_lm), "device": "cpu"})
    model = load_scoring_model(s.scorer)
    assert isinstance(model, PairScorer) and model.name == tiny_lm.name
    svc = ScorerService(s, model)
    svc.items.upsert({"item_id": "0", "title": "Space war"})
    svc.items.upsert({"item_id": "1", "title": "Love story"})
    [scores] = svc._score([ScoreRequest("r", "u", ["0", "1"], [("1", 1.0)], ["love"])])
    assert model.forward_passes == 1 and set(scores) == {"0", "1"}
    assert svc.health()["mode"] == "pairwise" and svc.health()["model"] == tiny_lm.name
    with pytest.raises(TypeError, match="mode='bi'"):
        ScorerService(Settings(scorer={"mode": "bi"}), model)


def test_a_missing_pairwise_model_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="no causal LM at .*pairwise_model"):
        PairScorer(tmp_path / "nope")
