"""A small synthetic ReDial build (generator + the real Beam build) for the MESE tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def redial_build(tmp_path_factory):
    from pipelines.core.engine import BuildOptions, run_build
    from pipelines.redial.builder import RedialBuilder
    from pipelines.redial.generator import GeneratorConfig, generate

    root = tmp_path_factory.mktemp("redial")
    raw = str(root / "raw")
    generate(GeneratorConfig(out=raw, dialogs=160, seed=4, bad=0))
    out = str(root / "build")
    run_build(RedialBuilder(raw=raw), BuildOptions(out=out, workers=1, progress=False), command="test")
    return out


@pytest.fixture(scope="session")
def tiny_setup(redial_build, tmp_path_factory):
    from modeling.config import load_config
    from modeling.mese.setup import Setup

    folder = str(tmp_path_factory.mktemp("mese-run"))
    cfg = load_config("mese_smoke", [f"data={redial_build}", f"output_dir={folder}"])
    cfg["model"]["backbone"].update(dim=32, layers=1, heads=2)
    cfg["model"]["encoder"].update(dim=32, layers=1, heads=2, ffn=64)
    cfg["model"]["dropout"] = 0.0
    return Setup.create(cfg, folder)


@pytest.fixture(scope="session")
def inspired_build(tmp_path_factory):
    """A generated INSPIRED corpus through the real `mmdial build inspired` pipeline."""
    from pipelines.core.engine import BuildOptions, run_build
    from pipelines.inspired.builder import InspiredBuilder
    from pipelines.inspired.generator import GeneratorConfig, generate

    root = tmp_path_factory.mktemp("inspired")
    raw = str(root / "raw")
    generate(GeneratorConfig(out=raw, dialogs=60, seed=3))
    out = str(root / "build")
    run_build(InspiredBuilder(raw=raw), BuildOptions(out=out, workers=1, progress=False), command="test")
    return out
