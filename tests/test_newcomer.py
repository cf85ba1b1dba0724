"""What a newcomer meets first: `--version`, the order of `--help`, `inspect` that fits a screen,
dataset cards that name their own papers and say when the data is generated, plots that read."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli.main import app

REPO = Path(__file__).resolve().parents[1]


def test_version_flag_prints_the_version():
    import pipelines

    for flag in ("--version", "-V"):
        res = CliRunner().invoke(app, [flag])
        assert res.exit_code == 0 and res.output.strip() == f"mmdial {pipelines.__version__}"


def test_help_lists_the_data_commands_before_privacy_annotation_and_models():
    res = CliRunner().invoke(app, ["--help"], terminal_width=120)
    assert res.exit_code == 0
    pos = {name: res.output.index(f" {name} ") for name in ("generate", "build", "inspect", "mask", "annotate", "train")}
    assert pos["generate"] < pos["build"] < pos["inspect"] < pos["mask"] < pos["annotate"] < pos["train"]
    assert "--version" in res.output


def test_abbreviate_shortens_vectors_bytes_and_long_text():
    from pipelines.core.inspect import abbreviate, format_row

    vec = [0.123456789] * 1280
    short = abbreviate(vec)
    assert len(short) == 5 and short[-1] == "… (1,280 items)"
    assert abbreviate(b"\xff" * 5000) == "<5,000 bytes>"
    assert abbreviate("x" * 500).endswith("(500 chars)") and len(abbreviate("x" * 500)) < 100
    assert abbreviate({"a": [1, 2], "b": "ok"}) == {"a": [1, 2], "b": "ok"}
    assert len(format_row({"feature": vec, "data": b"\x00" * 10**5, "text": "y" * 10**4})) < 400


def _mmd(tmp_path: Path, dialogs: int = 12) -> Path:
    from pipelines.mmd.generator import GeneratorConfig, generate

    raw = tmp_path / "raw"
    generate(GeneratorConfig(out=str(raw), dialogs=dialogs, seed=3))
    return raw


def _build(raw: Path, out: Path) -> dict:
    from pipelines.core.engine import BuildOptions, run_build
    from pipelines.mmd.builder import MMDBuilder

    return run_build(MMDBuilder(raw=str(raw), states_path=str(raw / "states.jsonl")), BuildOptions(out=str(out), workers=1, progress=False))


def test_inspect_prints_a_short_screen_for_wide_rows(tmp_path):
    """Two rows of every table, one line each, whatever the width of a row (image bytes, vectors)."""
    raw = _mmd(tmp_path)
    out = tmp_path / "out"
    _build(raw, out)
    res = CliRunner().invoke(app, ["inspect", str(out), "--rows", "2"], terminal_width=100)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert len(lines) < 200
    rows = [ln for ln in lines if ln.startswith("[")]
    assert rows and all(len(ln) < 4000 for ln in rows)
    assert any("bytes>" in ln for ln in rows if "image_id=" in ln), "encoded images are shown by size"


@pytest.mark.slow
def test_mmd_card_names_only_its_own_papers_and_real_data_is_not_called_synthetic(tmp_path):
    import yaml

    raw = _mmd(tmp_path)
    out = tmp_path / "gen"
    _build(raw, out)
    text = (out / "README.md").read_text(encoding="utf-8")
    assert "JDDC" not in text.split("## Licence")[0], "an MMD card cites no JDDC table"
    assert "SeMANTIC (Appendix A.1) Table 3" in text and "**Synthetic data.**" in text
    real = tmp_path / "real"
    shutil.copytree(raw, real)
    (real / "GENERATED.json").unlink()  # as a real release: no generator's record
    m = _build(real, tmp_path / "out-real")
    text = (tmp_path / "out-real" / "README.md").read_text(encoding="utf-8")
    header = yaml.safe_load(text.split("---\n")[1])
    assert m["provenance"] == {"synthetic": False} and "Synthetic" not in text and "synthetic" not in header["tags"]
    assert header["license"] == "other" and header["license_name"] and header["language"] == ["en"]


@pytest.mark.parametrize("top", [1, 3, 7, 10, 42, 99, 600, 899, 1199, 12345])
def test_plot_ticks_are_round_and_cover_the_top(top):
    from pipelines.core.plots import nice_ticks

    ticks = nice_ticks(top)
    step = ticks[1] - ticks[0]
    assert ticks[0] == 0 and ticks[-1] >= top and len(ticks) <= 7
    mantissa = step / 10 ** len(str(int(step))[:-1]) if step >= 1 else step
    assert mantissa in (1, 2, 2.5, 5, 10), (top, ticks)


def test_bar_labels_keep_both_ends_when_shortened():
    from pipelines.core.plots import shorten

    label = "Photo for product recommendation and comparison across many stores"
    short = shorten(label, 120, lambda s: 7 * len(s))
    assert 7 * len(short) <= 120 and short.startswith("Photo") and short.endswith("stores") and "…" in short


def test_the_readmes_run_folders_are_ignored_by_git():
    if not (REPO / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    outs = {p for p in re.findall(r"output_dir=([\w./-]+)", readme) if not p.isupper()}  # RUN, DIR: placeholders
    assert outs
    for path in outs:
        res = subprocess.run(["git", "check-ignore", "-q", f"{path}/metrics.json"], cwd=REPO)
        assert res.returncode == 0, f"{path} (the README's output_dir) would be committed"
