"""Small builds of every builder `make demo` runs (MMD, SIMMC, JDDC, ReDial, `mmdial mask`), from
the synthetic generators, for the tests that read builds as their consumers would."""

from __future__ import annotations

from pathlib import Path

BUILDERS = ("mmd", "simmc", "jddc", "redial", "inspired", "mask")


def generate_raw(name: str, root: Path) -> Path:
    """Write a small native corpus for `name` under `root` (once); returns its folder."""
    raw = root / "raw" / name
    if raw.exists():
        return raw
    if name in ("mmd", "mask"):
        from pipelines.mmd.generator import GeneratorConfig, generate

        raw = root / "raw" / "mmd"
        if not raw.exists():
            generate(GeneratorConfig(out=str(raw), dialogs=24, seed=1))
        return raw
    if name == "simmc":
        from pipelines.simmc.generator import GeneratorConfig, generate

        generate(GeneratorConfig(out=str(raw), dialogs=20, seed=1))
    elif name == "jddc":
        from pipelines.jddc.generator import GeneratorConfig, generate

        generate(GeneratorConfig(out=str(raw), sessions=30, seed=1))
    elif name == "redial":
        from pipelines.redial.generator import GeneratorConfig, generate

        generate(GeneratorConfig(out=str(raw), dialogs=30, seed=1))
    elif name == "inspired":
        from pipelines.inspired.generator import GeneratorConfig, generate

        generate(GeneratorConfig(out=str(raw), dialogs=30, seed=1))
    else:
        raise ValueError(name)
    return raw


def make_builder(name: str, raw: Path):
    if name == "mmd":
        from pipelines.mmd.builder import MMDBuilder

        return MMDBuilder(raw=str(raw), states_path=str(raw / "states.jsonl"))
    if name == "simmc":
        from pipelines.simmc.builder import SIMMCBuilder

        return SIMMCBuilder(raw=str(raw))
    if name == "jddc":
        from pipelines.jddc.builder import JDDCBuilder

        return JDDCBuilder(raw=str(raw))
    if name == "redial":
        from pipelines.redial.builder import RedialBuilder

        return RedialBuilder(raw=str(raw), unit_bytes=16 * 1024)
    if name == "inspired":
        from pipelines.inspired.builder import InspiredBuilder

        return InspiredBuilder(raw=str(raw))
    if name == "mask":
        from pipelines.privacy.builder import MaskBuilder
        from pipelines.privacy.cli import make_masker

        return MaskBuilder(input=str(raw / "images"), masker=make_masker(sets=["engine.name=fake"]), dataset_name="mmd")
    raise ValueError(name)


def build(name: str, root: Path, out: Path, workers: int = 1, **kw) -> dict:
    from pipelines.core.engine import BuildOptions, run_build

    raw = generate_raw(name, root)
    return run_build(make_builder(name, raw), BuildOptions(out=str(out), workers=workers, progress=False, shard_bytes=32 * 1024, **kw))


def parquet_files(out: Path) -> dict[str, bytes]:
    """Every table file of a build (relative path -> bytes): what must not depend on the runner."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.parquet"))}
