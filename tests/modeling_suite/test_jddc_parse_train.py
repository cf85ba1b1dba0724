"""JDDC part 2 end to end: a small synthetic JDDC build (generator + the real Beam build), every
discourse and summary task trained and evaluated through the CLI, the paper-shaped tables, and a
small learning check (the parser beats "attach to the previous EDU", BERTSUMABS beats Lead)."""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from pipelines.cli.main import app

runner = CliRunner()
pytestmark = pytest.mark.slow


def cli(*args: str):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def jddc_build(tmp_path_factory):
    from pipelines.core.engine import BuildOptions, run_build
    from pipelines.jddc.builder import JDDCBuilder
    from pipelines.jddc.generator import GeneratorConfig, generate

    root = tmp_path_factory.mktemp("jddc")
    raw, out = str(root / "raw"), str(root / "build")
    generate(GeneratorConfig(out=raw, sessions=160, annotated=160, seed=5))
    run_build(JDDCBuilder(raw=raw), BuildOptions(out=out, workers=1, progress=False), command="test")
    return out


def _metrics(run: str) -> dict:
    with open(os.path.join(run, "metrics.json"), encoding="utf-8") as fh:
        return json.load(fh)


def test_every_task_trains_evaluates_and_reports_through_the_cli(jddc_build, tmp_path):
    runs = []
    for task, config, name, extra in (
        ("jddc-discourse", "jddc_discourse_smoke", "disc-text", ["model.multimodal=false"]),
        ("jddc-discourse", "jddc_discourse_smoke", "disc-mm", ["model.multimodal=true"]),
        ("jddc-summary-lead", "jddc_summary_smoke", "lead", []),
        ("jddc-summary-lexrank", "jddc_summary_smoke", "lexrank", []),
        ("jddc-summary-pg", "jddc_summary_smoke", "pg", []),
        ("jddc-summary-bertsum", "jddc_summary_smoke", "bertsum-mm", ["model.multimodal=true"]),
    ):
        out = str(tmp_path / name)
        cli("train", task, "--config", config, f"data={jddc_build}", f"output_dir={out}", "seeds=[0,1]", "train.epochs=1", *extra)
        shown = cli("evaluate", task, "--run", out).output
        m = _metrics(out)
        assert m["seeds"] == [0, 1] and set(m["per_seed"]) == {"0", "1"} and m["examples"] > 0
        assert all(0.0 <= v["mean"] <= 1.0 and v["std"] >= 0.0 for v in m["metrics"].values())
        assert m["row"] in shown
        assert os.path.exists(os.path.join(out, "seed-0", "predictions-test.jsonl"))
        runs.append(out)
    lead = _metrics(str(tmp_path / "lead"))
    assert lead["metrics"]["ROUGE-1"]["mean"] == pytest.approx(lead["trivial"]["ROUGE-1"]["mean"])  # Lead is its own baseline
    table = cli("report", "jddc", *runs, "--out", str(tmp_path / "report")).output
    for row in ("Text-only Deep Sequential", "Multimodal Deep Sequential", "Lead", "LexRank", "Pointer-Generator", "Multimodal BERTSUMABS"):
        assert f"| {row} |" in table
    assert "Table 8" in table and "Table 9" in table and "| Attach to the previous EDU (text EDUs only) |" in table
    assert "| Attach to the previous EDU (all EDUs) |" in table and "| Lead (same sessions) |" in table
    assert os.path.exists(tmp_path / "report" / "tables.md")
    assert runner.invoke(app, ["train", "jddc-summary-nope", "--config", "jddc_summary_smoke"]).exit_code == 2


def test_small_learning_check(jddc_build, tmp_path):
    """One seed on the small build: structure and summaries are learnt, not guessed."""
    disc, bert, lead = (str(tmp_path / n) for n in ("disc", "bert", "lead"))
    cli("train", "jddc-discourse", "--config", "jddc_discourse_smoke", f"data={jddc_build}", f"output_dir={disc}", "train.epochs=5")
    cli("evaluate", "jddc-discourse", "--run", disc)
    m = _metrics(disc)
    assert m["metrics"]["Link"]["mean"] > m["trivial"]["Link"]["mean"]
    assert m["metrics"]["Link & Relation"]["mean"] > m["trivial"]["Link & Relation"]["mean"]
    cli(
        "train",
        "jddc-summary-bertsum",
        "--config",
        "jddc_summary_smoke",
        f"data={jddc_build}",
        f"output_dir={bert}",
        "train.epochs=8",
        "train.batch_size=16",
    )
    cli("evaluate", "jddc-summary-bertsum", "--run", bert)
    b = _metrics(bert)
    for k in ("ROUGE-1", "ROUGE-2", "ROUGE-L"):
        assert b["metrics"][k]["mean"] > b["trivial"][k]["mean"], k  # trivial = Lead on the same sessions


def test_bertsum_encoder_and_tokenizer_from_a_local_pretrained_folder(jddc_build, tmp_path):
    """model.pretrained=PATH: a local BERT folder (here a tiny random one) is the encoder and the
    tokenizer; nothing downloads."""
    import polars as pl
    from transformers import BertConfig, BertModel, BertTokenizer

    folder = tmp_path / "bert"
    folder.mkdir()
    texts = pl.read_parquet(os.path.join(jddc_build, "turns", "*.parquet"))["text"].to_list()
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted({c for t in texts for c in t if not c.isspace()})]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizer(str(folder / "vocab.txt"), do_lower_case=False).save_pretrained(str(folder))
    conf = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
    BertModel(conf).save_pretrained(str(folder))
    out = str(tmp_path / "run")
    cli(
        "train",
        "jddc-summary-bertsum",
        "--config",
        "jddc_summary_smoke",
        f"data={jddc_build}",
        f"output_dir={out}",
        f"model.pretrained={folder}",
        "train.epochs=1",
    )
    cli("evaluate", "jddc-summary-bertsum", "--run", out)
    with open(os.path.join(out, "seed-0", "run.json"), encoding="utf-8") as fh:
        assert json.load(fh)["vocab_size"] == len(vocab)
    assert _metrics(out)["examples"] > 0
