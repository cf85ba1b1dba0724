"""Fixtures for the modeling tests: small synthetic builds (generator + the real Beam build),
each made once per session: MMD (SeMANTIC), JDDC (two generator seeds) and ReDial (MESE, shared
with tests/mese)."""

from __future__ import annotations

import os

import pytest

from tests.mese.conftest import redial_build  # noqa: F401 (a fixture of this suite too)


def _build(tmp_path_factory, name: str, generate, gen_config, builder) -> str:
    """Generate a raw corpus with `gen_config` into a fresh folder, build it, return the build."""
    from pipelines.core.engine import BuildOptions, run_build

    root = tmp_path_factory.mktemp(name)
    raw = str(root / "raw")
    generate(gen_config(raw))
    out = str(root / "build")
    run_build(builder(raw), BuildOptions(out=out, workers=1, progress=False), command="test")
    return out


@pytest.fixture(scope="session")
def mmd_build(tmp_path_factory):
    from pipelines.mmd.builder import MMDBuilder
    from pipelines.mmd.generator import GeneratorConfig, generate

    return _build(
        tmp_path_factory,
        "mmd",
        generate,
        lambda raw: GeneratorConfig(out=raw, dialogs=300, seed=1, states_fraction=0.5, image_size=64),
        lambda raw: MMDBuilder(raw=raw, states_path=os.path.join(raw, "states.jsonl")),
    )


def _jddc(tmp_path_factory, name: str, sessions: int, seed: int) -> str:
    from pipelines.jddc.builder import JDDCBuilder
    from pipelines.jddc.generator import GeneratorConfig, generate

    config = lambda raw: GeneratorConfig(out=raw, sessions=sessions, annotated=sessions, seed=seed)  # noqa: E731
    return _build(tmp_path_factory, name, generate, config, lambda raw: JDDCBuilder(raw=raw))


@pytest.fixture(scope="session")
def jddc_build(tmp_path_factory):
    """A small synthetic JDDC build, every session annotated (query rewrites, discourse, summaries)."""
    return _jddc(tmp_path_factory, "jddc", 160, 5)


@pytest.fixture(scope="session")
def jddc_heldout(tmp_path_factory):
    """A second small JDDC build from another generator seed: held-out sessions to score on."""
    return _jddc(tmp_path_factory, "jddc-heldout", 80, 6)
