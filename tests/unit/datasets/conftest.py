"""Shared paths and fixtures for the dataset loader tests.

Tiny hand-written datasets live in ``tests/fixtures/datasets``; the real ones, when this
checkout has them, in ``../shared/datasets`` beside the repository (never copied in).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "datasets"
SHARED = REPO / ".." / "shared" / "datasets"


@pytest.fixture
def fixtures() -> Path:
    """The folder holding ``ml100k_tiny``, ``mlcsv_tiny`` and ``amazon_tiny``."""
    return FIXTURES


@pytest.fixture
def copy_fixture(tmp_path: Path):
    """Copy a tiny fixture folder into ``tmp_path`` so a test may corrupt it."""

    def copy(name: str) -> Path:
        return Path(shutil.copytree(FIXTURES / name, tmp_path / name))

    return copy
