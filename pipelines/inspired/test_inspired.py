"""INSPIRED pipeline: the native TSV traps, a build of the real excerpt (its counts exactly), a
generated corpus end to end, and bad rows as dead letters."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from pipelines.core.builder import UsageError
from pipelines.core.context import Reject
from pipelines.core.parquet import read_table
from pipelines.inspired.builder import InspiredBuilder
from pipelines.inspired.generator import GeneratorConfig, generate
from pipelines.inspired.reader import literal_dict, parse_row, read_rows, split_list

REPO = Path(__file__).resolve().parents[2]
SAMPLES = Path(os.environ.get("MMDIAL_SAMPLES", REPO.parent / "shared" / "samples")) / "inspired"


def build(raw, out, **kw):
    from pipelines.core.engine import BuildOptions, run_build

    return run_build(InspiredBuilder(raw=str(raw), **kw), BuildOptions(out=str(out), workers=1, progress=False))


def rows(out, table):
    return read_table(str(out), table).to_pylist()


def test_reader_traps():
    data = (
        b"dialog_id\tutt_id\tspeaker\tturn_id\ttext\ttext_with_placeholder\tmovies\tmovie_dict\tfirst_label\tcase\n"
        b'a.pkl\t1\tSEEKER\t1\tI saw QUOTATION_MARKUpQUOTATION_MARK\t"I saw ""[MOVIE_TITLE_0]"""\tUp (2009);  \t'
        b"{'Up (2009)': 0}\t\taccept_rating_good\n"
    )
    header, cells = read_rows(data)
    assert "expert_label" in header and "fine_label" in header  # README names read as the file's
    u = parse_row(header, *cells[0])
    assert u.text == 'I saw "Up"' and u.placeholder == 'I saw "[MOVIE_TITLE_0]"'
    assert u.lists["movies"] == ["Up (2009)"] and u.dicts["movie_dict"] == {"Up (2009)": 0}
    assert u.outcome["fine_label"] == "accept_rating_good" and u.speaker == "user"
    assert split_list("comedy;  drama;") == ["comedy", "drama"] and literal_dict("", "x") == {}
    with pytest.raises(Reject, match="Python literal"):
        literal_dict("{'a': ", "movie_dict")
    with pytest.raises(Reject, match="unknown speaker"):
        parse_row(header, 2, ["a.pkl", "2", "BOT", "1", "x", "", "", "", "", ""])
    with pytest.raises(Reject, match="fields"):
        parse_row(header, 3, ["a.pkl", "2"])


def test_real_excerpt_reproduces_its_counts(tmp_path):
    src = SAMPLES / "test_excerpt.tsv"
    if not src.exists():
        pytest.skip(f"{src} not found (set MMDIAL_SAMPLES)")
    lines = src.read_text(encoding="utf-8").splitlines()[1:]
    want_dialogs, want_utts = len({ln.split("\t", 1)[0] for ln in lines}), len(lines)
    assert (want_dialogs, want_utts) == (8, 311)  # SOURCE.md: 8 dialogues, 311 utterance rows
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "test.tsv").write_bytes(src.read_bytes())  # the release's file name
    build(raw, tmp_path / "out")
    dialogs, turns = rows(tmp_path / "out", "dialogs"), rows(tmp_path / "out", "turns")
    assert (len(dialogs), len(turns)) == (want_dialogs, want_utts)
    assert rows(tmp_path / "out", "dead_letters") == []
    assert sum(d["num_turns"] for d in dialogs) == want_utts and {d["split"] for d in dialogs} == {"test"}
    assert all(d["dialog_id"].endswith(".pkl") for d in dialogs)
    assert not any("QUOTATION_MARK" in t["text"] for t in turns)
    first = next(t for t in turns if "Hustlers" in t["text"])
    assert first["text_templated"] == 'the last movie i saw in the theater was "[MOVIE_TITLE_0]" .'
    assert first["item_ids"] == ["Hustlers (2019)"]
    strategies = Counter(json.loads(t["annotations"])["strategy"] for t in turns if t["speaker"] == "system")
    assert strategies["credibility"] > 0 and None not in strategies
    meta = json.loads(dialogs[0]["meta"])
    assert meta["recommended_trailer_id"] == "XQw658a-8UQ" and meta["case"] == "accept_rating_good"
    products = {p["product_id"] for p in rows(tmp_path / "out", "products")}
    assert {m for t in turns for m in t["item_ids"]} <= products


def test_generated_corpus_builds_with_the_counts_it_promises(tmp_path):
    counts = generate(GeneratorConfig(out=str(tmp_path / "raw"), dialogs=30, bad=4, seed=3))
    assert generate(GeneratorConfig(out=str(tmp_path / "raw2"), dialogs=30, bad=4, seed=3)) == counts
    assert (tmp_path / "raw" / "train.tsv").read_bytes() == (tmp_path / "raw2" / "train.tsv").read_bytes()
    build(tmp_path / "raw", tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    by_split = Counter(d["split"] for d in rows(tmp_path / "out", "dialogs"))
    assert {f"dialogs_{s}": n for s, n in by_split.items()} == {k: v for k, v in counts.items() if k.startswith("dialogs_")}
    assert len(rows(tmp_path / "out", "turns")) == counts["utterances"]
    assert len(rows(tmp_path / "out", "products")) == counts["products"]
    dead = rows(tmp_path / "out", "dead_letters")
    assert len(dead) == counts["dead_utterances"] == 4 and {d["stage"] for d in dead} == {"utterances"}
    for stage, c in manifest["stages"].items():
        assert c["in"] == c["out"] + c["dead"] + c["filtered"], stage
    samples = rows(tmp_path / "out", "rec_samples")
    assert samples and all(s["positive_ids"] and s["context"] for s in samples)
    assert manifest["provenance"]["synthetic"] is True
    card = (tmp_path / "out" / "README.md").read_text()
    assert "35,811" in card and "Sociable strategies" in card


def test_bad_input_is_one_clear_error(tmp_path):
    with pytest.raises(UsageError, match="no such folder"):
        InspiredBuilder(raw=str(tmp_path / "missing")).plan()
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(UsageError, match="no dialog files"):
        InspiredBuilder(raw=str(tmp_path)).plan()
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "dev.tsv").write_text("id\ttext\nx\ty\n")
    build(raw, tmp_path / "out")
    dead = rows(tmp_path / "out", "dead_letters")
    assert len(dead) == 1 and "header lacks" in dead[0]["reason"]
