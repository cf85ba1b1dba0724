"""End to end through the CLI: the smoke config trains SeMANTIC on a real build and learns,
training resumes from its checkpoint, both baselines train and evaluate, the report draws."""

from __future__ import annotations

import json
import os

import pytest
import yaml
from typer.testing import CliRunner

from pipelines.cli.main import app

runner = CliRunner()


def cli(*args: str):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


pytestmark = pytest.mark.slow  # each trains a model (14-90 s); the fast loop is `pytest -m "not slow"`


def _epoch_means(run: str, key: str) -> list[float]:
    """Mean of a logged training term per epoch."""
    lines = [json.loads(x) for x in open(os.path.join(run, "metrics.jsonl"))]
    by_epoch: dict[int, list[float]] = {}
    for x in lines:
        if key in x:
            by_epoch.setdefault(x["epoch"], []).append(x[key])
    return [sum(v) / len(v) for _, v in sorted(by_epoch.items())]


@pytest.fixture(scope="module")
def semantic_run(mmd_build, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("runs") / "semantic")
    cli("train", "semantic", "--config", "smoke", f"data={mmd_build}", f"output_dir={out}", "threads=1", "train.progress=false")
    cli("evaluate", "semantic", "--run", out)
    return out


def test_smoke_semantic_learns(semantic_run):
    """NDCG@5 far above the exact random-ranking expectation for the same candidate lists."""
    with open(os.path.join(semantic_run, "metrics.json")) as fh:
        m = json.load(fh)
    assert m["turns"] > 50 and m["details"]["0"]["missing_candidates"] == 0
    rnd, got = m["random"], m["mean"]
    assert 0.4 < rnd["NDCG@5"] < 0.65  # 2-3 positives among 7-8 candidates
    assert got["NDCG@5"] >= rnd["NDCG@5"] + 0.15, (got, rnd)
    assert got["R@5"] > rnd["R@5"] + 0.1


def test_run_folder_contents(semantic_run):
    run = os.path.join(semantic_run, "seed-0")
    with open(os.path.join(run, "config.yaml")) as fh:
        cfg = yaml.safe_load(fh)
    assert cfg["net"]["d_model"] == 64 and cfg["threads"] == 1 and cfg["output_dir"] == semantic_run
    with open(os.path.join(run, "run.json")) as fh:
        info = json.load(fh)
    assert info["model"] == "semantic" and info["slot_keys"] == ["color", "gender", "material", "type"] and info["df_samples"] > 0
    assert os.path.exists(os.path.join(run, "checkpoints", "last", "model.safetensors"))
    assert os.path.exists(os.path.join(run, "checkpoints", "last", "optimizer.safetensors"))
    lines = [json.loads(x) for x in open(os.path.join(run, "metrics.jsonl"))]
    epochs = [x for x in lines if "train_samples_per_s" in x]
    assert [x["epoch"] for x in epochs] == list(range(8))
    steps = [x for x in lines if "loss" in x]
    assert steps and all(k in steps[0] for k in ("student_rank", "lr", "samples_per_s"))
    rank = _epoch_means(run, "student_rank")
    assert rank[-1] < 0.8 * rank[0], rank  # the student's ranking hinge falls as it learns
    assert steps[-1]["lr"] < steps[0]["lr"]  # linear decay
    assert all(0 < x["df_fraction"] <= 1 for x in steps)


def test_resume_continues_after_the_last_epoch(semantic_run, mmd_build):
    result = cli(
        "train",
        "semantic",
        "--config",
        "smoke",
        f"data={mmd_build}",
        f"output_dir={semantic_run}",
        "threads=1",
        "train.progress=false",
        "train.epochs=9",
    )
    assert "resuming" in result.output and "after epoch 7" in result.output
    lines = [json.loads(x) for x in open(os.path.join(semantic_run, "seed-0", "metrics.jsonl"))]
    assert [x["epoch"] for x in lines if "train_samples_per_s" in x] == list(range(9))


@pytest.mark.parametrize("kind", ["clip", "text"])
def test_baselines_train_and_evaluate(kind, mmd_build, tmp_path, semantic_run):
    out = str(tmp_path / kind)
    epochs = {"clip": 3, "text": 6}[kind]  # text-only learns its word embeddings from scratch
    cli(
        "train",
        kind,
        "--config",
        "smoke",
        f"data={mmd_build}",
        f"output_dir={out}",
        "threads=1",
        "train.progress=false",
        f"train.epochs={epochs}",
    )
    cli("evaluate", kind, "--run", out)
    with open(os.path.join(out, "metrics.json")) as fh:
        m = json.load(fh)
    assert m["model"] == kind and set(m["mean"]) >= {"P@5", "R@10", "NDCG@20"}
    margin = {"clip": 0.05, "text": 0.01}[kind]  # text-only trains its word embeddings from scratch: slow to learn
    assert m["mean"]["NDCG@5"] >= m["random"]["NDCG@5"] + margin, (m["mean"], m["random"])
    rank = _epoch_means(os.path.join(out, "seed-0"), "rank")
    assert rank[-1] < rank[0], rank
    wrong = runner.invoke(app, ["evaluate", "semantic", "--run", out])
    assert wrong.exit_code == 2
    report = str(tmp_path / "report")
    cli("report", semantic_run, out, "--out", report)
    assert os.path.getsize(os.path.join(report, "main.png")) > 1000
    assert kind in open(os.path.join(report, "summary.md")).read()
    table = [x for x in open(os.path.join(report, "tables.md")).read().splitlines() if x.startswith("| ")]
    assert table[0].split("|")[2].strip() == "P@5" and len(table[0].split("|")) == 12  # the paper's 9 columns
    rows = {x.split("|")[1].strip(): x for x in table[1:]}
    ndcg5 = float(rows[f"{kind}:{kind}"].split("|")[4].split("±")[0])
    assert ndcg5 == pytest.approx(100 * m["mean"]["NDCG@5"], abs=0.006)


@pytest.mark.parametrize("mode", ["larch"])
def test_evaluate_larch_mode(semantic_run, mode):
    result = cli("evaluate", "semantic", "--run", semantic_run, "--eval-mode", mode)
    assert "larch evaluation" in result.output
    with open(os.path.join(semantic_run, "metrics.json")) as fh:
        m = json.load(fh)
    assert m["eval_mode"] == "larch" and m["turns"] > 50
    assert m["mean"]["NDCG@5"] >= m["random"]["NDCG@5"] + 0.15
    cli("evaluate", "semantic", "--run", semantic_run)  # back to the default for the other tests


def test_bad_usage_exits_2(tmp_path):
    assert runner.invoke(app, ["train", "semantic", "--config", "smoke", "train.epoch=1"]).exit_code == 2
    assert runner.invoke(app, ["train", "semantic", "--config", "smoke", f"data={tmp_path}", f"output_dir={tmp_path}/o"]).exit_code == 2
    assert runner.invoke(app, ["train", "nosuchmodel", "--config", "smoke"]).exit_code == 2


def test_smoke_semantic_learns_on_simmc(tmp_path):
    """The same tables from the SIMMC pipeline: scene-object crops as products, gold states;
    `mmdial evaluate` picks SIMMC's devtest split since there is no `test`."""
    from pipelines.core.engine import BuildOptions, run_build
    from pipelines.simmc.builder import SIMMCBuilder
    from pipelines.simmc.generator import GeneratorConfig, generate

    raw, build = tmp_path / "raw", tmp_path / "build"
    generate(GeneratorConfig(out=str(raw), dialogs=150, seed=1))
    run_build(SIMMCBuilder(raw=str(raw)), BuildOptions(out=str(build), workers=1, progress=False))
    out = str(tmp_path / "run")
    cli("train", "semantic", "--config", "smoke", f"data={build}", f"output_dir={out}", "threads=1", "train.progress=false")
    cli("evaluate", "semantic", "--run", out)
    with open(os.path.join(out, "metrics.json")) as fh:
        m = json.load(fh)
    assert m["split"] == "devtest" and m["turns"] > 20
    assert m["mean"]["NDCG@5"] >= m["random"]["NDCG@5"] + 0.15, (m["mean"], m["random"])
