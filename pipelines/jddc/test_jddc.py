"""JDDC 2.1: reader alignment, label sets, splits, and real Beam builds over generated and hand-made
native files (counts, dead letters with reasons, annotation joins, real Chinese text)."""

from __future__ import annotations

import json
import os
import random
import re
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from pipelines.core.context import Reject
from pipelines.core.engine import BuildOptions, run_build
from pipelines.core.parquet import read_table
from pipelines.jddc import generator as gen
from pipelines.jddc.builder import JDDCBuilder
from pipelines.jddc.reader import OwnedRange, iter_owned_sessions, parse_message, plan_ranges
from pipelines.jddc.splits import annotated_splits
from schemas.core import pairs_to_dict
from schemas.jddc import (
    DISCOURSE_RELATIONS,
    DISCOURSE_TAXONOMY,
    IMAGE_CATEGORIES,
    IMAGE_CATEGORY_GROUPS,
    normalise_category,
    normalise_relation,
)

REPO = Path(__file__).resolve().parents[2]


def _samples() -> Path | None:
    for cand in (os.environ.get("MMDIAL_SHARED_SAMPLES"), REPO.parent / "shared" / "samples"):
        if cand and Path(cand, "jddc").exists():
            return Path(cand)
    return None


def _build(raw, out, workers=1, shard_bytes=16 * 2**20, **kw) -> dict:
    builder = JDDCBuilder(raw=str(raw), **kw)
    return run_build(builder, BuildOptions(out=str(out), workers=workers, progress=False, shard_bytes=shard_bytes))


def _dead(out) -> list[dict]:
    return read_table(str(out), "dead_letters").to_pylist()


def _rows(manifest: dict, table: str) -> int:
    return sum(s["rows"] for s in manifest["tables"].get(table, {}).values())


# -- label sets -------------------------------------------------------------------------------
def test_label_sets_follow_the_paper():
    assert len(IMAGE_CATEGORIES) == 15 and len(set(IMAGE_CATEGORIES)) == 15  # Table 4
    assert Counter(IMAGE_CATEGORY_GROUPS.values()) == {"Screenshot": 8, "Photo": 7}
    assert list(DISCOURSE_TAXONOMY) == ["Question&Answer", "Imperative", "Promise", "Communication", "Contingency"]  # section 3.2
    assert len(DISCOURSE_RELATIONS) == 33 and len(set(DISCOURSE_RELATIONS)) == 33  # Table 12 rows
    assert normalise_relation("Imperative/Rely to suggestion/Acceptance") == "Imperative/Reply to suggestion/Acceptance"
    assert normalise_relation("question&answer/question/yes/no") == "Question&Answer/Question/Yes/No"
    assert normalise_relation("Question&Answer/Question/Maybe") is None
    assert normalise_relation("Social") is None
    assert normalise_category("photo of products  with malfunction") == "Photo of products with malfunction"
    assert normalise_category("Screenshot of a cat") is None
    used = {v[4] for v in gen.SCENARIOS.values()} | {
        gen.QA_Q,
        gen.SOCIAL,
        gen.BACKGROUND,
        gen.SUSPEND,
        gen.FEEDBACK,
        gen.CONFIRM,
        gen.ACCEPT,
        gen.REQUEST,
    }
    assert used <= set(DISCOURSE_RELATIONS)
    assert {c for c, _ in gen.IMAGE_KINDS.values()} == set(IMAGE_CATEGORIES)


def test_annotated_sessions_split_exactly_as_table_3():
    ids = [f"s{i}" for i in range(2000)]
    splits = annotated_splits(ids)
    assert Counter(splits.values()) == {"train": 1800, "valid": 100, "test": 100}
    assert annotated_splits(reversed(ids)) == splits  # order of the files does not matter
    assert Counter(annotated_splits(ids[:200]).values()) == {"train": 180, "valid": 10, "test": 10}


# -- reader -----------------------------------------------------------------------------------
def _write_tsv(path: Path, sessions: list[tuple[str, int]], extra: dict[int, bytes] | None = None) -> bytes:
    lines = []
    for k, (sid, n) in enumerate(sessions):
        for i in range(n):
            lines.append(f"{sid}\t小家电\t100{k}\t第{i}句话，好的。\t{i % 2}\n".encode())
        if extra and k in extra:
            lines.append(extra[k])
    data = b"".join(lines)
    path.write_bytes(data)
    return data


def _owned(path: Path, ranges) -> tuple[list[tuple[bytes | None, int]], int]:
    got, total = [], 0
    for start, end in ranges:
        res = OwnedRange()
        for g in iter_owned_sessions(str(path), start, end, res):
            got.append((g.key, len(g.lines)))
        total += res.bytes_owned
    return got, total


def test_byte_ranges_read_every_session_whole_exactly_once(tmp_path):
    rng = random.Random(3)
    sessions = [(f"sess{k:04d}", rng.randint(1, 30)) for k in range(300)]
    # a line without a tab inside session 5 belongs to it (dead-lettered later, never lost)
    data = _write_tsv(tmp_path / "d.tsv", sessions, extra={5: "截断的行\n".encode()})
    expect = [(sid.encode(), n + (1 if k == 5 else 0)) for k, (sid, n) in enumerate(sessions)]
    for range_bytes in (37, 100, 333, 4096, 10**9):
        got, total = _owned(tmp_path / "d.tsv", plan_ranges(str(tmp_path / "d.tsv"), len(data), range_bytes))
        assert got == expect, range_bytes
        assert total == len(data)


def test_lines_before_the_first_session_id_are_kept_for_dead_letters(tmp_path):
    p = tmp_path / "d.tsv"
    p.write_bytes(b"garbage without tab\r\nA\tx\t\thi\t0\r\nA\tx\t\tyo\t1\r\nB\tx\t\tok\t0")
    got, total = _owned(p, [(0, 5), (5, 30), (30, -1)])
    assert got == [(None, 1), (b"A", 2), (b"B", 1)] and total == p.stat().st_size


def test_parse_message_reasons():
    m = parse_message(0, "s1\t服饰鞋靴\t\t9edce617d636ac4908d3d798fa50e6f2.jpg\t0".encode())
    assert m.image == "9edce617d636ac4908d3d798fa50e6f2.jpg" and not m.waiter and m.sku == ""
    assert parse_message(0, "s1\t服饰鞋靴\t123\t您好！\t1".encode()).waiter
    cases = {
        "s1\t服饰鞋靴\t123\t好的，那我再": "wrong column count: 4 of 5",
        "s1\t服饰鞋靴\t123\t多\t了\t0": "wrong column count: 6 of 5",
        "s1\t服饰鞋靴\t123\t你好\t客服": "bad waiter flag '客服'",
        "\t服饰鞋靴\t123\t你好\t0": "empty session id",
    }
    for line, reason in cases.items():
        with pytest.raises(Reject, match=re.escape(reason)):
            parse_message(0, line.encode())
    with pytest.raises(Reject, match="not UTF-8"):
        parse_message(0, b"s1\tx\t\t\xff\xfe\t0")


# -- end to end over generated data ------------------------------------------------------------
@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("jddc")
    raw = root / "raw"
    report = gen.generate(gen.GeneratorConfig(out=str(raw), sessions=80, annotated=20, bad=len(gen.BAD_KINDS), seed=7))
    out = root / "out"
    # small ranges and shards: several message units per file and several shards, so sessions
    # cross range boundaries and annotation references cross shards
    manifest = _build(raw, out, workers=2, range_bytes=3000, shard_bytes=8000)
    return raw, out, report, manifest


@pytest.mark.slow  # over 5 s on an idle 2-core machine (docs/testing.md)
def test_generated_build_counts_match_the_generator(generated):
    raw, out, report, m = generated
    c = report["counts"]
    assert m["counts_reconcile"] and m["num_shards"] > 1
    assert _rows(m, "dialogs") == c["sessions"] == 80
    assert _rows(m, "turns") == c["messages"]
    assert _rows(m, "images") == c["images"]
    assert _rows(m, "missing_images") == c["missing_images"] == 1
    assert _rows(m, "products") == c["products"]
    assert _rows(m, "jddc_kb_triples") == c["kb_triples"]
    assert _rows(m, "jddc_image_categories") == c["categories"]
    assert _rows(m, "jddc_query_rewrites") == c["rewrites"]
    assert _rows(m, "jddc_discourse") == c["discourse"]
    assert _rows(m, "jddc_summaries") == c["summaries"] == c["annotated_sessions"] == 20
    assert m["stats"]["text_chars"] == c["text_chars"]
    assert m["stats"]["turn_images_resolved"] == c["image_messages"] - c["missing_images"]


@pytest.mark.slow  # over 5 s on an idle 2-core machine (docs/testing.md)
def test_generated_bad_records_are_dead_letters_with_reasons(generated):
    raw, out, report, m = generated
    assert m["dead_letters"]["by_stage"] == report["dead"]
    dead = _dead(out)

    def n(stage, pattern):
        return sum(1 for d in dead if d["stage"] == stage and re.match(pattern, d["reason"]))

    assert n("messages", r"wrong column count: [46] of 5 \(session id, shop type, SKU, text, waiter flag\)") == 2
    assert n("messages", r"bad waiter flag '客服': expected '1' \(customer service\) or '0' \(customer\)") == 1
    assert n("rewrites.session", r"jddc_session reference 'nosuchsession\d+' matches nothing in the build") == 1
    assert n("discourse.turns", r"turn_index \d+ refers to a missing EDU: the session has \d+ turns") == 1
    assert n("rewrites.turns", r"turn_index \d+ is a customer-service turn") == 1
    assert n("discourse.parse", r"unknown relation 'Question&Answer/Question/Maybe'") == 1
    assert n("categories.parse", r"unknown image category 'Screenshot of a cat'") == 1
    assert n("kb.triples", r"wrong column count: 2 of 3") == 1
    assert n("images", r"cannot decode image$") == 1
    for d in dead:
        assert d["source"] and d["locator"] and d["excerpt"] is not None


@pytest.mark.slow  # over 5 s on an idle 2-core machine (docs/testing.md)
def test_generated_tables_join_sessions_turns_and_layers(generated):
    raw, out, report, m = generated
    turns = {(r["dialog_id"], r["turn_index"]): r for r in read_table(str(out), "turns").to_pylist()}
    dialogs = {r["dialog_id"]: r for r in read_table(str(out), "dialogs").to_pylist()}
    # speakers and text as in the TSV, Chinese unchanged
    first = (raw / "data_train.txt").read_text(encoding="utf-8").splitlines()[:2]
    sid = first[0].split("\t")[0]
    assert turns[(sid, 0)]["text"] == first[0].split("\t")[3] and turns[(sid, 0)]["speaker"] == "user"
    assert turns[(sid, 1)]["text"] == first[1].split("\t")[3] and turns[(sid, 1)]["speaker"] == "system"
    assert "，" in turns[(sid, 1)]["text"] or "～" in turns[(sid, 1)]["text"]
    image_turns = [t for t in turns.values() if t["image_refs"]]
    assert image_turns and all(t["text"] == "" and re.fullmatch(r"[0-9a-f]{32}\.jpg", t["image_refs"][0]) for t in image_turns)
    images = {r["source_key"]: r["image_id"] for r in read_table(str(out), "images", columns=["source_key", "image_id"]).to_pylist()}
    for t in image_turns:
        assert t["image_ids"] == ([images[t["image_refs"][0]]] if t["image_refs"][0] in images else [])
    # every annotation row names a built session and a turn inside it, in the session's split
    for table in ("jddc_query_rewrites", "jddc_discourse"):
        for r in read_table(str(out), table).to_pylist():
            assert r["split"] == dialogs[r["dialog_id"]]["split"]
            assert (r["dialog_id"], r["turn_index"]) in turns
    for r in read_table(str(out), "jddc_query_rewrites").to_pylist():
        t = turns[(r["dialog_id"], r["turn_index"])]
        assert t["speaker"] == "user" and r["query_text"] == t["text"]
        assert (r["rewritten"] is not None) == r["rewritable"]
    for r in read_table(str(out), "jddc_discourse").to_pylist():
        assert r["parent_turn_index"] < r["turn_index"] and r["relation"] == f"{r['level1']}/{r['level2']}/{r['level3']}"
    for r in read_table(str(out), "jddc_summaries").to_pylist():
        assert r["summary_chars"] == len(r["summary"]) and all(t < r["num_turns"] for t in r["trivial_turn_indices"])
    # annotated sessions are the ones the layers name, split with Table 3's proportions
    annotated = {d for d, r in dialogs.items() if json.loads(r["meta"])["annotated"]}
    assert len(annotated) == 20
    assert Counter(dialogs[d]["split"] for d in annotated) == {"train": 18, "valid": 1, "test": 1}
    cats = read_table(str(out), "jddc_image_categories").to_pylist()
    assert all(c["image_id"] == images[c["image"]] for c in cats)
    products = read_table(str(out), "products").to_pylist()
    assert all(p["name"] and p["category"] for p in products)
    assert {json.loads(r["meta"])["sku"] for r in dialogs.values()} <= {p["product_id"] for p in products}


# -- hand-made bad input -----------------------------------------------------------------------
def test_bad_input_build_through_the_cli(tmp_path):
    from typer.testing import CliRunner

    from pipelines.cli.main import app

    raw = tmp_path / "raw"
    (raw / "images").mkdir(parents=True)
    from pipelines.jddc import render

    photo = render.photo("damaged", {"rgb": (200, 40, 40), "shape": 0}, random.Random(0))
    (raw / "images" / "aaaa1111.jpg").write_bytes(photo)
    lines = [
        "S1\t小家电\t1001\t你好，在吗？\t0",
        "S1\t小家电\t1001\t您好！\t1",
        "S1\t小家电\t1001\taaaa1111.jpg\t0",
        "S1\t小家电\t1001\tbbbb2222.jpg\t0",  # image file not there: missing_images
        "S1\t小家电\t1001\t这个能修吗？\t2",  # bad waiter flag
        "S2\t服饰鞋靴\t\t鞋子开胶了\t0",
        "S2\t服饰鞋靴\t\t多了\t一列\t1",  # wrong column count
        "S2\t服饰鞋靴\t2002\t亲，可以换货哦。\t1",
        "S2\t服饰鞋靴\t2002\t好的，那我再",  # truncated line (4 columns)
        "S3\t服饰鞋靴\t2002\t坏行\t9",  # a session with no valid message
    ]
    (raw / "data_train.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ann = raw / "annotations"
    ann.mkdir()
    (ann / "query_rewrites.jsonl").write_text(
        "\n".join(
            json.dumps(x, ensure_ascii=False)
            for x in [
                {"session_id": "S1", "turn_index": 3, "rewritable": True, "rewritten": "这个电水壶能修吗？"},
                {"session_id": "S9", "turn_index": 0, "rewritable": False, "rewritten": None},  # missing session
                {"session_id": "S2", "turn_index": 9, "rewritable": False},  # missing EDU
                {"session_id": "S1", "turn_index": 2, "rewritable": True},  # rewritten missing
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    (ann / "discourse.jsonl").write_text(
        "\n".join(
            json.dumps(x, ensure_ascii=False)
            for x in [
                {"session_id": "S1", "turn_index": 1, "parent_turn_index": 0, "relation": "Communication/Contact/Confirm"},
                {
                    "session_id": "S1",
                    "turn_index": 2,
                    "parent_turn_index": 1,
                    "relation": "Contingency/Contingency/Background",
                    "version": 1,
                },
                {
                    "session_id": "S1",
                    "turn_index": 2,
                    "parent_turn_index": 0,
                    "relation": "Contingency/Contingency/Elaboration",
                    "version": 2,
                },
                {
                    "session_id": "S2",
                    "turn_index": 5,
                    "parent_turn_index": 0,
                    "relation": "Question&Answer/Answer/Affirmation",
                },  # missing EDU
                {"session_id": "S3", "turn_index": 1, "parent_turn_index": 0, "relation": "Communication/Social/Social"},  # dead session
            ]
        )
        + "\n{not json\n",
        encoding="utf-8",
    )
    (ann / "summaries.jsonl").write_text(
        json.dumps({"session_id": "S1", "trivial_turn_indices": [0, 1, 7], "summary": "用户咨询维修。"}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    (raw / "image_categories.jsonl").write_text(
        json.dumps({"image": "aaaa1111.jpg", "category": "Photo of product with damaged appearance"})
        + "\n"
        + json.dumps({"image": "cccc3333.jpg", "category": "Screenshot of product"})
        + "\n"
    )
    (raw / "kb.tsv").write_text("1001\t品类\t电水壶\n1001\t容量\t1.7L\n1001\t容量\t1.7L\n2002\t尺码\n", encoding="utf-8")
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app, ["build", "jddc", "--raw", str(raw), "--out", str(out), "--workers", "1", "--quiet", "--max-dead-ratio", "1"]
    )
    assert res.exit_code == 0, res.output
    m = json.loads((out / "manifest.json").read_text())
    assert m["counts_reconcile"]
    st = m["stages"]
    assert st["messages"] == {"in": 10, "out": 6, "dead": 4, "filtered": 0}
    assert st["sessions"] == {"in": 3, "out": 2, "dead": 1, "filtered": 0}
    assert st["rewrites.parse"]["dead"] == 1 and st["rewrites.session"]["dead"] == 1 and st["rewrites.turns"]["dead"] == 1
    assert st["discourse.parse"]["dead"] == 1 and st["discourse.session"]["dead"] == 1
    assert st["discourse.turns"] == {"in": 4, "out": 2, "dead": 1, "filtered": 1}  # one superseded revision
    assert st["summaries.turns"]["dead"] == 1
    assert st["categories.image"]["dead"] == 1
    assert st["kb.triples"] == {"in": 4, "out": 2, "dead": 1, "filtered": 1}
    dead = {(d["stage"], d["locator"]): d["reason"] for d in _dead(out)}
    assert "bad waiter flag '2'" in dead[("messages", "offset " + str(sum(len(x.encode()) + 1 for x in lines[:4])))]
    assert dead[("sessions", "S3")] == "session 'S3' has no valid message (1 malformed)"
    assert dead[("rewrites.session", "line 2")] == "jddc_session reference 'S9' matches nothing in the build"
    assert dead[("discourse.session", "line 5")] == "jddc_session reference 'S3' matches nothing in the build"
    assert dead[("rewrites.parse", "line 4")] == "rewritten must be a non-empty string, got None"
    assert dead[("rewrites.turns", "line 3 (S2)")] == "turn_index 9 refers to a missing EDU: the session has 2 turns (0..1)"
    assert dead[("summaries.turns", "line 1 (S1)")] == "trivial_turn_indices [7] refer to missing EDUs: the session has 4 turns (0..3)"
    assert dead[("categories.image", "line 2")] == "jddc_image_file reference 'cccc3333.jpg' matches nothing in the build"
    assert dead[("discourse.parse", "line 6")].startswith("not JSON")
    turns = read_table(str(out), "turns").to_pylist()
    assert [(t["dialog_id"], t["turn_index"], t["speaker"], t["text"], t["image_refs"], len(t["image_ids"])) for t in turns] == [
        ("S1", 0, "user", "你好，在吗？", [], 0),
        ("S1", 1, "system", "您好！", [], 0),
        ("S1", 2, "user", "", ["aaaa1111.jpg"], 1),
        ("S1", 3, "user", "", ["bbbb2222.jpg"], 0),
        ("S2", 0, "user", "鞋子开胶了", [], 0),
        ("S2", 1, "system", "亲，可以换货哦。", [], 0),
    ]
    assert read_table(str(out), "missing_images").to_pylist()[0]["image_ref"] == "bbbb2222.jpg"
    disc = read_table(str(out), "jddc_discourse").to_pylist()
    assert [(d["turn_index"], d["parent_turn_index"], d["level3"], d["version"]) for d in disc] == [
        (1, 0, "Confirm", 1),
        (2, 0, "Elaboration", 2),
    ]
    rw = read_table(str(out), "jddc_query_rewrites").to_pylist()
    assert [(r["turn_index"], r["query_image_refs"], r["rewritten"], r["rewritten_chars"]) for r in rw] == [
        (3, ["bbbb2222.jpg"], "这个电水壶能修吗？", 9)
    ]
    meta = {d["dialog_id"]: json.loads(d["meta"]) for d in read_table(str(out), "dialogs").to_pylist()}
    assert meta["S1"]["dropped_messages"] == 1 and meta["S2"]["dropped_messages"] == 2 and meta["S2"]["sku"] == "2002"
    products = read_table(str(out), "products").to_pylist()
    assert [(p["product_id"], p["category"], pairs_to_dict(p["attributes"])) for p in products] == [
        ("1001", "电水壶", {"品类": "电水壶", "容量": "1.7L"})
    ]


# -- real Chinese text -----------------------------------------------------------------------------
def _xlsx_strings(path: Path) -> list[str]:
    """The shared strings of an .xlsx (every text cell), read with the standard library."""
    import xml.etree.ElementTree as ET

    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    with zipfile.ZipFile(path) as z:
        root = ET.fromstring(z.read("xl/sharedStrings.xml"))
    return ["".join(t.text or "" for t in si.iter(f"{ns}t")) for si in root.iter(f"{ns}si")]


@pytest.mark.slow
def test_real_jddc_text_passes_through_unchanged(tmp_path):
    samples = _samples()
    if samples is None or not (samples / "jddc" / "chat.xlsx").exists():
        pytest.skip("../shared/samples/jddc/chat.xlsx is not present")
    texts = [
        t
        for t in _xlsx_strings(samples / "jddc" / "chat.xlsx")
        if t.strip() and "\t" not in t and "\n" not in t and not t.strip().isdigit()
    ]
    texts = [t for t in texts if len(t) > 2][:300]
    assert len(texts) == 300 and any("，" in t or "？" in t for t in texts)
    raw = tmp_path / "raw"
    raw.mkdir()
    with open(raw / "data_dev.txt", "w", encoding="utf-8") as fh:
        for i, t in enumerate(texts):
            fh.write(f"real{i // 10}\t服饰鞋靴\t\t{t}\t{i % 2}\n")
    out = tmp_path / "out"
    m = _build(raw, out, range_bytes=2000)
    assert _rows(m, "dialogs") == 30 and _rows(m, "turns") == 300 and m["dead_letters"]["count"] == 0
    got = {(r["dialog_id"], r["turn_index"]): r["text"] for r in read_table(str(out), "turns").to_pylist()}
    assert [got[(f"real{i // 10}", i % 10)] for i in range(300)] == texts
    assert m["stats"]["text_chars"] == sum(len(t) for t in texts)  # characters, not bytes
    assert m["stats"]["text_chars"] < sum(len(t.encode()) for t in texts)


# -- generator ---------------------------------------------------------------------------------------
def test_generator_is_deterministic_and_images_render_with_or_without_the_cjk_font(tmp_path, monkeypatch):
    from pipelines.jddc import render

    a, b = tmp_path / "a", tmp_path / "b"
    ra = gen.generate(gen.GeneratorConfig(out=str(a), sessions=12, annotated=3, bad=4, seed=5))
    rb = gen.generate(gen.GeneratorConfig(out=str(b), sessions=12, annotated=3, bad=4, seed=5))
    assert ra == rb
    for name in ("data_train.txt", "data_dev.txt", "kb.tsv", "image_categories.jsonl", "annotations/discourse.jsonl"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    assert sorted(p.name for p in (a / "images").iterdir()) == sorted(p.name for p in (b / "images").iterdir())
    person = gen._person(random.Random(1))
    product = gen.make_catalogue(random.Random(1), 1)[0]
    installed = render.has_cjk_font()
    default = gen._render_image("order", product, person, random.Random(2))
    monkeypatch.setattr(render, "cjk_font", lambda size: None)  # as on a machine without the font
    ascii_only = gen._render_image("order", product, person, random.Random(2))
    assert render.decode_ok(default) and render.decode_ok(ascii_only)
    assert (default != ascii_only) == installed
