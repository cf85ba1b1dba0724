"""Fixtures for the modeling tests: one small synthetic MMD build (generator + the real Beam
build), shared by the whole session."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def mmd_build(tmp_path_factory):
    from pipelines.core.engine import BuildOptions, run_build
    from pipelines.mmd.builder import MMDBuilder
    from pipelines.mmd.generator import GeneratorConfig, generate

    root = tmp_path_factory.mktemp("mmd")
    raw = str(root / "raw")
    generate(GeneratorConfig(out=raw, dialogs=300, seed=1, states_fraction=0.5, image_size=64))
    out = str(root / "build")
    builder = MMDBuilder(raw=raw, states_path=os.path.join(raw, "states.jsonl"))
    run_build(builder, BuildOptions(out=out, workers=1, progress=False), command="test")
    return out


@pytest.fixture(scope="session")
def jddc_build(tmp_path_factory):
    """A small synthetic JDDC build, every session annotated (query rewrites, discourse, summaries)."""
    from pipelines.core.engine import BuildOptions, run_build
    from pipelines.jddc.builder import JDDCBuilder
    from pipelines.jddc.generator import GeneratorConfig, generate

    root = tmp_path_factory.mktemp("jddc")
    raw = str(root / "raw")
    generate(GeneratorConfig(out=raw, sessions=160, annotated=160, seed=5))
    out = str(root / "build")
    run_build(JDDCBuilder(raw=raw), BuildOptions(out=out, workers=1, progress=False), command="test")
    return out


@pytest.fixture(scope="session")
def jddc_heldout(tmp_path_factory):
    """A second small JDDC build from another generator seed: held-out sessions to score on."""
    from pipelines.core.engine import BuildOptions, run_build
    from pipelines.jddc.builder import JDDCBuilder
    from pipelines.jddc.generator import GeneratorConfig, generate

    root = tmp_path_factory.mktemp("jddc-heldout")
    raw = str(root / "raw")
    generate(GeneratorConfig(out=raw, sessions=80, annotated=80, seed=6))
    out = str(root / "build")
    run_build(JDDCBuilder(raw=raw), BuildOptions(out=out, workers=1, progress=False), command="test")
    return out
