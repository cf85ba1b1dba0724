"""Shared fixtures: generated corpora, builds, and the real samples when ../shared is present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_SAMPLES = REPO.parent / "shared" / "samples"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def pytest_collection_modifyitems(config, items):
    """Tests that start the real Label Studio server are slow (its start alone takes longer than
    the quick loop `pytest -m "not slow"` should); `make test` still runs them."""
    for item in items:
        if item.get_closest_marker("labelstudio") and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def shared_samples() -> Path:
    if not SHARED_SAMPLES.exists():
        pytest.skip("../shared/samples is not present")
    return SHARED_SAMPLES


def build(builder, out, workers: int = 1, **kw):
    """Run a build quietly on the local runner; returns the manifest."""
    from pipelines.core.engine import BuildOptions, run_build

    return run_build(builder, BuildOptions(out=str(out), workers=workers, progress=False, **kw))
