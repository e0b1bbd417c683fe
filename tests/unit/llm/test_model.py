"""The real default model, loaded offline (recstream/llm/model.py)."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

from recstream.llm.model import Encoder, ModelLoadError, default_model_path


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return Encoder(device="cpu")


def test_default_model_loads_offline_without_network(monkeypatch) -> None:
    def no_network(*a, **k):  # any connection attempt fails the test
        raise AssertionError(f"network access attempted: {a}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    enc = Encoder(device="cpu")
    assert enc.name == "all-MiniLM-L6-v2" and enc.dim == 384
    assert (default_model_path() / "model.safetensors").is_file()


def test_embeddings_are_unit_norm_and_stable(encoder: Encoder) -> None:
    texts = ["Star Wars (1977). Action, Sci-Fi", "a quiet romantic comedy in Paris"]
    a = encoder.encode(texts, batch_size=2)
    b = encoder.encode(texts[::-1], batch_size=1)[::-1]  # other batching, same vectors
    assert a.shape == (2, 384) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.allclose(a, b, atol=1e-5)


def test_similar_texts_are_closer_than_dissimilar(encoder: Encoder) -> None:
    space, scifi, romance = encoder.encode(["a space adventure with aliens",
                                            "science fiction film set in outer space",
                                            "a romantic comedy about a wedding"])
    assert space @ scifi > space @ romance + 0.1


def test_forward_passes_count_batches(encoder: Encoder) -> None:
    before = encoder.forward_passes
    encoder.encode(["a", "b", "c", "d", "e"], batch_size=2)
    assert encoder.forward_passes - before == 3


def test_unloadable_model_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="config.json missing"):
        Encoder(tmp_path, device="cpu")
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    with pytest.raises(ModelLoadError) as e:
        Encoder(tmp_path, device="cpu")
    assert "cannot load model" in str(e.value) and "\n" not in str(e.value)
