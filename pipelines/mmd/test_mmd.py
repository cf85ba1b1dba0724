"""MMD over generated native files: counts, dead letters, v3, resume, idempotence, CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pipelines.cli.main import app
from pipelines.core.manifest import content_view
from pipelines.core.parquet import read_table
from pipelines.mmd.builder import MMDBuilder
from pipelines.mmd.generator import GeneratorConfig, generate
from schemas import get
from schemas.core import pairs_to_dict
from tests.conftest import build


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict]:
    raw = tmp_path_factory.mktemp("mmd-raw")
    counts = generate(GeneratorConfig(out=str(raw), dialogs=120, bad=5, seed=3, states_fraction=0.3))
    return raw, counts


@pytest.fixture(scope="module")
def built(corpus, tmp_path_factory):
    raw, counts = corpus
    out = tmp_path_factory.mktemp("mmd-out")
    manifest = build(MMDBuilder(raw=str(raw), states_path=str(raw / "states.jsonl")), out)
    return out, manifest, counts


def rows(out, table, split=None):
    return read_table(str(out), table, split).to_pylist()


def test_manifest_counts_match_the_corpus(built):
    out, m, counts = built
    total = lambda t: sum(s["rows"] for s in m["tables"][t].values())  # noqa: E731
    assert total("dialogs") == counts["dialogs"]
    assert total("turns") == counts["utterances"]
    assert total("rec_samples") == counts["rec_samples"]
    assert m["table_stats"]["rec_samples"] == {
        "samples": counts["rec_samples"],
        "positives": counts["positives"],
        "negatives": counts["negatives"],
    }
    assert total("products") == counts["products"] == total("images")
    assert m["stats"]["turn_images_missing"] == counts["missing_images"] == total("missing_images")
    assert m["stats"]["turn_images_resolved"] + m["stats"]["turn_images_missing"] == m["stats"]["turn_image_refs"]
    assert m["dead_letters"]["count"] == counts["bad"] == 4
    assert m["counts_reconcile"] is True
    assert m["stages"]["parse"] == {"in": counts["dialogs"] + counts["bad"], "out": counts["dialogs"], "dead": counts["bad"], "filtered": 0}
    assert m["schema_versions"]["turns"] == 1
    assert m["sources"]["files"] > counts["dialogs"] and len(m["sources"]["sha256"]) == 64
    assert set(m["sources"]["side_files"]) == {"url2img", "states"}


def test_files_are_named_stamped_and_compressed(built):
    out, m, _ = built
    for table, splits in m["tables"].items():
        for split, info in splits.items():
            assert info["rows"] == sum(f["rows"] for f in info["files"]) > 0, (table, split)
            for f in info["files"]:
                assert re.fullmatch(rf"{table}/{table}-{split}-\d{{5}}-of-\d{{5}}-[0-9a-f]{{12}}\.parquet", f["path"]), f
                meta = pq.ParquetFile(out / f["path"]).metadata
                assert json.loads(meta.metadata[b"mmdial.schema"]) == {"table": table, "version": get(table).version}
                assert meta.num_rows == f["rows"] > 0, f  # per-file counts, and no 0-row files
                assert meta.row_group(0).column(0).compression == "ZSTD"
    assert not list(out.rglob(".tmp-*")), "temporary files left behind"


def test_dead_letters_have_reasons(built):
    out, _, _ = built
    dead = {Path(d["source"]).stem: d for d in rows(out, "dead_letters")}
    assert set(dead) == {"bad_truncated_0", "bad_wrong_type_1", "bad_unknown_speaker_2", "bad_empty_3"}
    assert dead["bad_truncated_0"]["reason"].startswith("JSONDecodeError")
    assert "must be a JSON list" in dead["bad_wrong_type_1"]["reason"]
    assert "unknown speaker 'robot'" in dead["bad_unknown_speaker_2"]["reason"]
    assert dead["bad_empty_3"]["reason"] == "empty dialog: no utterances"
    assert all(d["stage"] == "parse" and d["excerpt"] for d in dead.values() if d["source"] != "bad_empty_3")
    missing = rows(out, "missing_images")
    assert [m["reason"] for m in missing] == ["not_found"] and missing[0]["dialog_id"] == "bad_missing_image_4"


def test_turns_and_samples_are_faithful(built, corpus):
    out, _, _ = built
    raw, _ = corpus
    native = json.loads(next(raw.glob("dialogs/train/0_0.json")).read_text())
    turns = [t for t in rows(out, "turns") if t["dialog_id"] == "0_0"]
    assert [t["text"] for t in turns] == [(u["utterance"]["nlg"] or "") for u in native]
    assert [t["speaker"] for t in turns] == [u["speaker"] for u in native]
    products = {p["product_id"]: pairs_to_dict(p["attributes"]) for p in rows(out, "products")}
    images = {i["image_id"] for i in rows(out, "images")}
    samples = rows(out, "rec_samples")
    assert samples
    for s in samples:
        ctx = s["context"]
        assert all(a["speaker"] != b["speaker"] for a, b in zip(ctx, ctx[1:])), "same-speaker turns must merge"
        assert ctx[-1]["turn_index"] < s["turn_index"] and s["context_start"] == ctx[0]["turn_index"]
        last_user = next(c["text"] for c in reversed(ctx) if c["speaker"] == "user" and ("want" in c["text"] or "similar" in c["text"]))
        for pid in s["positive_ids"]:
            assert products[pid]["color"] in last_user, (last_user, products[pid])
        assert not set(s["positive_ids"]) & set(s["negative_ids"])
    for t in turns:
        assert set(t["image_ids"]) <= images


def test_mmd2_ids_resolve_like_urls(tmp_path):
    raw = tmp_path / "raw"
    counts = generate(GeneratorConfig(out=str(raw), dialogs=30, fmt="mmd2", seed=5, states_fraction=0))
    m = build(MMDBuilder(raw=str(raw)), tmp_path / "out")
    assert m["stats"]["turn_images_resolved"] == m["stats"]["turn_image_refs"] > 0
    assert m["table_stats"]["rec_samples"]["positives"] == counts["positives"]
    assert set(m["sources"]["side_files"]) == {"url2img", "image_id"}
    pids = {p["product_id"] for p in rows(tmp_path / "out", "products")}
    assert {pid for s in rows(tmp_path / "out", "rec_samples") for pid in s["positive_ids"]} <= pids


def test_v3_is_the_states_subset_of_v2(built, corpus, tmp_path):
    out2, m2, counts = built
    raw, _ = corpus
    m3 = build(MMDBuilder(raw=str(raw), states_path=str(raw / "states.jsonl"), v3=True), tmp_path / "v3")
    assert m3["dataset"] == "mmd-v3"
    v2 = {(d["dialog_id"], d["split"]) for d in rows(out2, "dialogs")}
    v3 = {(d["dialog_id"], d["split"]) for d in rows(tmp_path / "v3", "dialogs")}
    assert v3 < v2 and len(v3) == counts["states_dialogs"]
    states = {s["dialog_id"] for s in rows(tmp_path / "v3", "dialog_states")}
    assert states == {d for d, _ in v3}
    assert m3["stages"]["parse"]["filtered"] == counts["dialogs"] - counts["states_dialogs"]
    assert sum(s["rows"] for s in m3["tables"]["dialog_states"].values()) == counts["state_turns"]


def test_bad_states_are_dead_lettered(corpus, tmp_path):
    raw, _ = corpus
    good = (raw / "states.jsonl").read_text().splitlines()
    first = json.loads(good[0])
    bad = [
        "{not json",
        json.dumps({"dialog_id": "no_such_dialog", "turn_index": 0, "slots": {}}),
        json.dumps({**first, "turn_index": 1}),  # a system turn
        json.dumps({**first, "turn_index": 999}),
        json.dumps({**first, "slots": "red"}),
    ]
    states = tmp_path / "states.jsonl"
    states.write_text("\n".join(good + bad) + "\n")
    m = build(MMDBuilder(raw=str(raw), states_path=str(states)), tmp_path / "out")
    assert m["stages"]["states.parse"]["dead"] == 2
    assert m["stages"]["states.join"]["dead"] == 1
    assert m["stages"]["states.turn"]["dead"] == 2
    assert m["counts_reconcile"]
    reasons = {d["stage"]: d["reason"] for d in rows(tmp_path / "out", "dead_letters")}
    assert "no_such_dialog" in reasons["states.join"]
    assert "beyond" in reasons["states.turn"] or "system turn" in reasons["states.turn"]


def _table_bytes(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.parquet"))}


@pytest.mark.slow
def test_rerun_resumes_and_is_identical(corpus, tmp_path):
    raw, _ = corpus
    out = tmp_path / "out"
    b = lambda: MMDBuilder(raw=str(raw))  # noqa: E731
    m1 = build(b(), out, shard_bytes=40_000)
    first = _table_bytes(out)
    assert m1["num_shards"] > 3 and m1["run"]["shards_resumed"] == 0
    m2 = build(b(), out, shard_bytes=40_000)
    assert m2["run"]["shards_resumed"] == m2["num_shards"]
    assert _table_bytes(out) == first
    assert content_view(m1) == content_view(m2)
    # a changed input rebuilds only its shard, and a fresh build gives the same bytes
    victim = next(raw.glob("dialogs/test/*.json"))
    original = victim.read_text()
    try:
        victim.write_text(original.replace("Hello", "Howdy", 1))
        m3 = build(b(), out, shard_bytes=40_000)
        assert m3["run"]["shards_built"] == 1
        fresh = build(b(), tmp_path / "fresh", shard_bytes=40_000)
        assert _table_bytes(out) == _table_bytes(tmp_path / "fresh")
        assert content_view(m3) == content_view(fresh)
    finally:
        victim.write_text(original)


@pytest.mark.slow
def test_new_layout_replaces_old_files(corpus, tmp_path):
    raw, _ = corpus
    out = tmp_path / "out"
    build(MMDBuilder(raw=str(raw)), out, shard_bytes=40_000)
    m = build(MMDBuilder(raw=str(raw)), out)
    assert m["num_shards"] == 1
    names = {p.name for p in out.rglob("*.parquet")}
    assert all("-of-00001" in n for n in names), names


def test_select_proposes_a_stratified_sample(built, tmp_path):
    out, _, counts = built
    runner = CliRunner()
    res = runner.invoke(
        app, ["select", "mmd", "--from", str(out), "--out", str(tmp_path / "sel.jsonl"), "--fraction", "0.25", "--seed", "1"]
    )
    assert res.exit_code == 0, res.output
    picked = [json.loads(x) for x in (tmp_path / "sel.jsonl").read_text().splitlines()]
    assert len(picked) == round(0.25 * counts["dialogs"])
    by_split = {d["dialog_id"]: d["split"] for d in rows(out, "dialogs")}
    for p in picked:
        assert by_split[p["dialog_id"]] == p["split"]
    for split in ("train", "valid", "test"):
        n = sum(1 for s in by_split.values() if s == split)
        k = sum(1 for p in picked if p["split"] == split)
        assert abs(k - 0.25 * n) <= 3
    again = runner.invoke(
        app, ["select", "mmd", "--from", str(out), "--out", str(tmp_path / "sel2.jsonl"), "--fraction", "0.25", "--seed", "1"]
    )
    assert again.exit_code == 0 and (tmp_path / "sel2.jsonl").read_text() == (tmp_path / "sel.jsonl").read_text()


@pytest.mark.slow
def test_cli_exit_codes(corpus, tmp_path):
    raw, _ = corpus
    runner = CliRunner()
    res = runner.invoke(app, ["build", "mmd", "--raw", str(tmp_path / "nope"), "--out", str(tmp_path / "o"), "--quiet"])
    assert res.exit_code == 2 and "no such folder" in res.output
    (tmp_path / "empty").mkdir()
    res = runner.invoke(app, ["build", "mmd", "--raw", str(tmp_path / "empty"), "--out", str(tmp_path / "o"), "--quiet"])
    assert res.exit_code == 2 and "no dialog files" in res.output
    res = runner.invoke(app, ["build", "mmd", "--v3", "--raw", str(raw), "--out", str(tmp_path / "o"), "--quiet"])
    assert res.exit_code == 2 and "needs --states" in res.output
    res = runner.invoke(
        app, ["build", "mmd", "--raw", str(raw), "--out", str(tmp_path / "o"), "--quiet", "--workers", "1", "--max-dead-ratio", "0.001"]
    )
    assert res.exit_code == 1 and "dead-letter ratio" in res.output
    res = runner.invoke(app, ["build", "mmd", "--raw", str(raw), "--out", str(tmp_path / "o"), "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert "counts reconcile: yes" in res.output
    res = runner.invoke(app, ["inspect", str(tmp_path / "o"), "--rows", "1"])
    assert res.exit_code == 0 and "rec_samples" in res.output


def test_negatives_that_repeat_a_positive_are_dropped(tmp_path):
    """Native MMD sometimes lists a shown product among the turn's false images; such a product
    is a positive of the sample, never also a negative (and the manifest counts agree)."""
    raw = tmp_path / "raw"
    counts = generate(GeneratorConfig(out=str(raw), dialogs=24, seed=11, states_fraction=0, overlap=0.6, image_size=16))
    overlapping = 0
    for f in raw.glob("dialogs/*/*.json"):
        for u in json.loads(f.read_text()):
            b = u["utterance"]
            if u["speaker"] == "system" and b["images"] and b["false images"]:
                overlapping += bool(set(b["images"]) & set(b["false images"]))
    assert overlapping >= 5  # the corpus really has the edge case
    out = tmp_path / "out"
    manifest = build(MMDBuilder(raw=str(raw)), out)
    samples = rows(out, "rec_samples")
    assert len(samples) == counts["rec_samples"]
    for s in samples:
        assert not set(s["positive_ids"]) & set(s["negative_ids"]), s["sample_id"]
        assert s["num_negatives"] == len(s["negative_ids"])
    assert sum(s["num_negatives"] for s in samples) == counts["negatives"] == manifest["table_stats"]["rec_samples"]["negatives"]
