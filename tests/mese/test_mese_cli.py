"""MESE through the CLI on a generated ReDial build: train, resume, evaluate, report."""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

TINY = [
    "model.backbone.dim=32",
    "model.backbone.layers=1",
    "model.backbone.heads=2",
    "model.encoder.dim=32",
    "model.encoder.layers=1",
    "model.encoder.heads=2",
    "model.encoder.ffn=64",
    "eval.generate_turns=4",
    "eval.max_new_tokens=8",
    "eval.cluster_repeats=2",
]


@pytest.mark.slow
def test_train_resume_evaluate_report(redial_build, tmp_path):
    from pipelines.cli.main import app

    runner = CliRunner()
    out = tmp_path / "run"
    args = ["train", "mese", "--config", "mese_smoke", f"data={redial_build}", f"output_dir={out}", "train.epochs=1", *TINY]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    seed = out / "seed-0"
    assert {"config.yaml", "run.json", "metrics.jsonl", "tokenizer.json"} <= set(os.listdir(seed))
    assert (seed / "checkpoints" / "last" / "model.safetensors").exists()
    # one more epoch: resumes after epoch 0 instead of starting again
    res = runner.invoke(app, [*args[: -len(TINY) - 1], "train.epochs=2", *TINY])
    assert res.exit_code == 0, res.output
    epochs = [json.loads(x)["epoch"] for x in (seed / "metrics.jsonl").read_text().splitlines() if '"epoch_s"' in x]
    assert epochs == [0, 1]
    res = runner.invoke(app, ["evaluate", "mese", "--run", str(out), "--max-turns", "12"])
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "metrics.json").read_text())
    m = doc["metrics"]
    assert 0 <= m["R@1"]["mean"] <= m["R@10"]["mean"] <= m["R@50"]["mean"] <= 1
    assert m["final_acc@10"]["mean"] == pytest.approx(m["recall_acc"]["mean"] * m["ranking_acc@10"]["mean"])
    assert m["PPL"]["mean"] > 1 and set(doc["clustering"]) == {"raw", "trained", "raw_select", "trained_select"}
    assert doc["baselines"]["random"]["R@10"]["mean"] > 0
    samples = [json.loads(x) for x in (seed / "samples.jsonl").read_text().splitlines()]
    assert samples and all(len(s["top10"]) == 10 and s["gold_items"] for s in samples)
    # generation on a labelled recommendation turn starts with [REC]: the top-ranked item is appended first
    assert all(s["recommended"] and s["recommended"][0] == s["top10"][0].split()[0] for s in samples)
    res = runner.invoke(app, ["report", "mese", str(out), "--out", str(tmp_path / "report")])
    assert res.exit_code == 0, res.output
    assert "Table 2" in res.output and "Table 3" in res.output and "Table 6" in res.output
    assert (tmp_path / "report" / "mese_tables.md").exists()


def test_cli_errors(tmp_path):
    from pipelines.cli.main import app

    runner = CliRunner()
    res = runner.invoke(app, ["train", "mese", "--config", "mese_smoke", f"data={tmp_path}", f"output_dir={tmp_path / 'r'}"])
    assert res.exit_code == 2 and "products" in res.output
    res = runner.invoke(app, ["evaluate", "mese", "--run", str(tmp_path)])
    assert res.exit_code == 2 and "no trained run" in res.output
    res = runner.invoke(app, ["report", "mese", str(tmp_path)])
    assert res.exit_code == 2 and "metrics.json" in res.output


@pytest.mark.slow
def test_table2_experiment_scores_language_by_the_papers_protocol(redial_build, tmp_path):
    from pipelines.cli.main import app

    args = ["experiment", "mese-table2", "--smoke", "--out", str(tmp_path), f"data={redial_build}", "train.epochs=1", *TINY]
    res = CliRunner().invoke(app, [*args, "eval.paper_turns=3"])
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "mese_smoke" / "metrics.json").read_text())
    assert doc["protocol"] == "paper" and doc["dataset"] == "redial" and doc["seeds"]["0"]["metrics"]["generated_turns"] == 3
    text = (tmp_path / "report" / "mese_tables.md").read_text()
    assert "under the paper protocol" in text and "| paper: MESE | 5.60 | 25.60 | 45.50 |" in text
