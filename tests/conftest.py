"""Shared fixtures: generated corpora, builds, and the real samples when ../shared is present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_SAMPLES = REPO.parent / "shared" / "samples"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def shared_samples() -> Path:
    if not SHARED_SAMPLES.exists():
        pytest.skip("../shared/samples is not present")
    return SHARED_SAMPLES


def build(builder, out, workers: int = 1, **kw):
    """Run a build quietly on the local runner; returns the manifest."""
    from pipelines.core.engine import BuildOptions, run_build

    return run_build(builder, BuildOptions(out=str(out), workers=workers, progress=False, **kw))
