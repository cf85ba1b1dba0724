"""JDDC baselines, part 1: data, tokenizer, decoding, CLI end to end, report, and the generator's
image dependence (the learning check's premise)."""

from __future__ import annotations

import json
import os
import random

import numpy as np
import pytest

from modeling.jddc import data as jd
from modeling.jddc.encode import prefix_ids
from modeling.jddc.tokenizer import CharTokenizer


def test_char_tokenizer_round_trip_and_save(tmp_path):
    tok = CharTokenizer.train(["亲，您好 哦", "订单号123"], min_freq=1)
    ids = tok.encode("您好，订单 号9")
    assert len(ids) == 7 and tok.unk_id in ids  # 9 unseen; the space is dropped
    assert tok.decode(ids) == "您好，订单号"
    tok.save(str(tmp_path))
    again = CharTokenizer.load(str(tmp_path))
    assert again.encode("您好，订单号") == tok.encode("您好，订单号") and again.eos_id == tok.eos_id
    rare = CharTokenizer.train(["甲甲乙"], min_freq=2)
    assert rare.encode("乙") == [rare.unk_id]


def test_sessions_and_examples_follow_the_turns(jddc_build):
    sessions = jd.load_sessions(jddc_build, "train")
    assert sessions and all([t.index for t in s.turns] == sorted(t.index for t in s.turns) for s in sessions)
    examples = jd.response_examples(sessions)
    for ex in examples[:200]:
        s = next(x for x in sessions if x.dialog_id == ex.dialog_id)
        turn = next(t for t in s.turns if t.index == ex.turn_index)
        assert not turn.user and turn.text == ex.target
        assert ex.query and all(t.user for t in ex.query) and (not ex.context or not ex.context[-1].user)
        assert [t.index for t in ex.context + ex.query] == [t.index for t in s.turns if t.index < ex.turn_index]
    rewrites = jd.query_rewrites(jddc_build, "train")
    rw = jd.rewrite_examples(sessions, rewrites)
    assert len(rw) == sum(1 for (d, _) in rewrites if d in {s.dialog_id for s in sessions})
    assert all(ex.query[0].user and (ex.target != "") == ex.label for ex in rw)
    only = jd.rewrite_examples(sessions, rewrites, rewritable_only=True)
    assert len(only) == sum(ex.label for ex in rw)
    with pytest.raises(jd.tables.DataError):
        jd.load_sessions(jddc_build, "nosuchsplit")


def test_prefix_keeps_the_query_end_when_cut():
    tok = CharTokenizer.train(["一二三四五六七八九十问"])
    ex = jd.Example(
        "d", 3, [jd.Turn(0, "user", "一二三四五六七八九十"), jd.Turn(1, "system", "", ["img"])], [jd.Turn(2, "user", "问")], "", []
    )
    lc = {"context_turns": 5, "max_context_tokens": 8}
    ids = prefix_ids(tok, ex, lc)
    assert len(ids) == 8 and ids[0] == tok.cls_id
    assert ids[-4:] == [tok.sep_id, tok.usr_id, tok.encode("问")[0], tok.sep_id]
    assert ids[-6:-4] == [tok.sys_id, tok.img_id]  # an image message reads as [IMG]


def test_image_rows_keep_the_newest_images():
    import pyarrow as pa

    from modeling.data.catalogue import ImageFeatures
    from modeling.jddc.features import image_rows

    feats = ImageFeatures(pa.array(["a", "b", "c"]), np.eye(3, dtype=np.float32), "x")
    rows = image_rows(feats, [["a", "b", "c"], ["c"], [], ["zz", "b"]], 2)
    assert rows.tolist() == [[1, 2], [-1, 2], [-1, -1], [-1, 1]]


def _gen_model(multimodal: bool):
    import torch

    from modeling.config import load_config
    from modeling.jddc.models import GPTGenerator

    cfg = load_config("jddc_smoke", [f"multimodal={str(multimodal).lower()}"])
    tok = CharTokenizer.train(["亲您好请问订单什么时候发货"])
    torch.manual_seed(0)
    bank = torch.randn(5, 8)
    return cfg, tok, GPTGenerator(cfg, tok, 8, bank).eval()


@pytest.mark.parametrize("multimodal", [False, True])
def test_batched_generation_equals_one_at_a_time(multimodal):
    from modeling.jddc.decode import generate_all

    cfg, tok, model = _gen_model(multimodal)
    prefixes = [[tok.cls_id, *tok.encode("您好请问")], [tok.cls_id, *tok.encode("订单")], [tok.cls_id, *tok.encode("什么时候发货亲")]]
    rows = np.array([[-1, 3], [-1, -1], [1, 4]], np.int64)
    dc = dict(cfg["decode"], max_new_tokens=6)
    one = generate_all(model, tok, prefixes, rows, dc, "cpu", batch_size=1)
    many = generate_all(model, tok, prefixes, rows, dc, "cpu", batch_size=3)
    assert one == many and all(len(o) <= 6 for o in one)
    beam = generate_all(model, tok, prefixes, rows, dict(dc, strategy="beam", beam_size=3), "cpu")
    s1 = generate_all(model, tok, prefixes, rows, dict(dc, strategy="sampling", seed=7), "cpu")
    s2 = generate_all(model, tok, prefixes, rows, dict(dc, strategy="sampling", seed=7), "cpu")
    assert len(beam) == 3 and s1 == s2


def test_generator_makes_replies_and_rewrites_depend_on_the_photo():
    """The premise of the learning check: after an after-sales photo the query text is the same
    whatever the photo shows, yet the reply and the rewrite differ by its category; a query is
    rewritable exactly when no comparison or screen photo came with it."""
    from pipelines.jddc.generator import PHOTO_SCENARIOS, UNREWRITABLE_KINDS, GeneratorConfig, make_catalogue, make_session

    rng = random.Random(11)
    cat = make_catalogue(rng, 30)
    cfg = GeneratorConfig(out="unused")
    by_query: dict[str, set[str]] = {}
    rewrites: dict[str, set[str]] = {}
    seen_unrewritable = 0
    for _ in range(400):
        msgs, _, images = make_session(
            rng, cat[rng.randrange(30)], {"name": {"zh": "王伟"}, "phone": "1", "address": {"zh": "x"}, "order": "1", "waybill": "J"}, cfg
        )
        q = next(m for m in msgs if m.user and m.rewrite is not None)
        reply = next(m.text for m in msgs[msgs.index(q) + 1 :] if not m.user and not m.trivial)  # past a 'please wait'
        assert q.rewritable == (not UNREWRITABLE_KINDS.intersection(images))
        seen_unrewritable += not q.rewritable
        photo = [k for k in images if k in PHOTO_SCENARIOS]
        if photo:
            by_query.setdefault(q.text, set()).add(reply)
            rewrites.setdefault(q.text, set()).add(photo[0])
    assert seen_unrewritable > 0
    ambiguous = [t for t, replies in by_query.items() if len(replies) >= 3]
    assert ambiguous and all(len(rewrites[t]) >= 3 for t in ambiguous)


BASELINES = [
    ("jddc-response", ["response.kind=retrieval", "multimodal=false"]),
    ("jddc-response", ["response.kind=retrieval", "multimodal=true"]),
    ("jddc-response", ["multimodal=false"]),
    ("jddc-response", ["multimodal=true", "decode.strategy=beam", "decode.beam_size=2"]),
    ("jddc-rewrite-cls", ["multimodal=false"]),
    ("jddc-rewrite-cls", ["multimodal=true"]),
    ("jddc-rewrite", ["multimodal=false", "decode.strategy=sampling"]),
    ("jddc-rewrite", ["multimodal=true"]),
]


@pytest.mark.slow
def test_all_baselines_train_evaluate_and_report_through_the_cli(jddc_build, tmp_path):
    from typer.testing import CliRunner

    from pipelines.cli.main import app

    runner = CliRunner()
    small = ["train.epochs=1", "train.progress=false", "loader.max_train_examples=96", "loader.max_eval_examples=24", "threads=1"]
    small += ["model.hidden=32", "model.layers=1", "model.ffn=64", "decode.max_new_tokens=8", "loader.samples=5"]
    runs = []
    for k, (task, over) in enumerate(BASELINES):
        run = str(tmp_path / f"run{k}")
        res = runner.invoke(app, ["train", task, "--config", "jddc_smoke", f"data={jddc_build}", f"output_dir={run}", *small, *over])
        assert res.exit_code == 0, res.output
        seed_dir = os.path.join(run, "seed-0")
        assert {"config.yaml", "run.json", "tokenizer.json", "metrics.jsonl"} <= set(os.listdir(seed_dir))
        assert os.path.exists(os.path.join(seed_dir, "checkpoints", "last", "model.safetensors"))
        res = runner.invoke(app, ["evaluate", task, "--run", run])
        assert res.exit_code == 0, res.output
        with open(os.path.join(run, "metrics.json"), encoding="utf-8") as fh:
            doc = json.load(fh)
        assert 5 <= doc["examples"] <= 24 and doc["seeds"] == [0]
        keys = {"F1"} if task == "jddc-rewrite-cls" else {"BLEU-4", "ROUGE-L", "Distinct-1", "Distinct-2"}
        assert keys <= set(doc["metrics"]) and keys <= set(doc["trivial"])
        assert all(0.0 <= doc["metrics"][key]["mean"] <= 1.0 for key in keys)
        with open(os.path.join(seed_dir, "samples.jsonl"), encoding="utf-8") as fh:
            samples = [json.loads(line) for line in fh]
        assert len(samples) == 5 and all({"prediction", "reference"} <= set(s) for s in samples)
        runs.append(run)
    res = runner.invoke(app, ["report", "jddc", *runs, "--out", str(tmp_path / "report")])
    assert res.exit_code == 0, res.output
    for name in ("Table 5", "Table 6", "Table 7", "Text-only Retrieval", "Multimodal Retrieval", "Multimodal GPT", "Text-only BERT"):
        assert name in res.output
    assert "Multimodal TransResNet" in res.output and "Most frequent (trivial)" in res.output
    assert os.path.exists(tmp_path / "report" / "tables.md")
    # resuming a finished run trains nothing more and keeps its checkpoint
    res = runner.invoke(
        app,
        ["train", "jddc-rewrite-cls", "--config", "jddc_smoke", f"data={jddc_build}", f"output_dir={runs[4]}", *small, *BASELINES[4][1]],
    )
    assert res.exit_code == 0 and "resuming" in res.output


def test_cli_errors_are_one_line_exit_2(tmp_path):
    from typer.testing import CliRunner

    from pipelines.cli.main import app

    runner = CliRunner()
    res = runner.invoke(app, ["train", "jddc-nosuch", "--config", "jddc_smoke"])
    assert res.exit_code == 2 and "jddc-response" in res.output
    res = runner.invoke(app, ["train", "jddc-response", "--config", "jddc_smoke", f"data={tmp_path}", f"output_dir={tmp_path / 'r'}"])
    assert res.exit_code == 2 and "no turns" in res.output
    res = runner.invoke(app, ["evaluate", "jddc-response", "--run", str(tmp_path / "none")])
    assert res.exit_code == 2
    res = runner.invoke(app, ["report", "jddc", str(tmp_path)])
    assert res.exit_code == 2 and "metrics.json" in res.output


@pytest.mark.slow
def test_learning_check_rewritable_needs_the_images(jddc_build, jddc_heldout, tmp_path):
    """The small learning check (the benchmark runs all six baselines over 3 seeds): on held-out
    sessions the multimodal classifier's macro-F1 beats the text-only BERT's, which beats the
    majority label's."""
    from modeling.config import load_config
    from modeling.jddc.run import evaluate_run, train

    scores = {}
    for mm in (False, True):
        out = str(tmp_path / f"cls-{mm}")
        cfg = load_config("jddc_learning", [f"data={jddc_build}", f"output_dir={out}", "seeds=[0]", f"multimodal={str(mm).lower()}"])
        train("jddc-rewrite-cls", cfg, log=lambda m: None)
        scores[mm] = evaluate_run(out, "train", jddc_heldout, log=lambda m: None)
    trivial = scores[False]["trivial"]["F1"]["mean"]
    text, multimodal = scores[False]["metrics"]["F1"]["mean"], scores[True]["metrics"]["F1"]["mean"]
    assert multimodal > text > trivial, (multimodal, text, trivial)
    assert multimodal - trivial > 0.25
