"""End-to-end SIMMC builds over generated data: counts, crops, samples, states, flavours, CLI."""

from __future__ import annotations

import json
import os
from collections import Counter

import numpy as np
import pytest

from pipelines.core.engine import BuildOptions, run_build
from pipelines.core.manifest import content_view
from pipelines.core.parquet import read_table
from pipelines.simmc import files as fl
from pipelines.simmc.builder import SIMMCBuilder
from pipelines.simmc.generator import GeneratorConfig, generate
from schemas.core import pairs_to_dict


def build(raw: str, out: str, **kw) -> dict:
    return run_build(SIMMCBuilder(raw=raw, **kw), BuildOptions(out=out, workers=1, progress=False))


def rows(out: str, table: str) -> list[dict]:
    return read_table(out, table).to_pylist()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    raw = str(tmp_path_factory.mktemp("simmc-raw"))
    counts = generate(GeneratorConfig(out=raw, dialogs=48, objects=9, width=200, height=120, seed=3))
    return raw, counts


@pytest.fixture(scope="module")
def built21(corpus, tmp_path_factory):
    raw, counts = corpus
    out = str(tmp_path_factory.mktemp("simmc-21"))
    return out, build(raw, out)


def table_rows(manifest: dict, table: str) -> int:
    return sum(v["rows"] for v in manifest["tables"].get(table, {}).values())


def test_generated_build_counts_match_the_generator(corpus, built21):
    _, counts = corpus
    out, m = built21
    want = counts["by_flavour"]["2.1"]
    assert m["build_config"]["version"] == "2.1"
    assert m["counts_reconcile"] and m["dead_letters"]["count"] == 0
    assert table_rows(m, "dialogs") == want["dialogs"] == 48
    assert table_rows(m, "turns") == want["turns"]
    assert table_rows(m, "dialog_states") == want["states"]
    assert table_rows(m, "rec_samples") == want["samples_user"] > 0
    assert m["table_stats"]["rec_samples"]["positives"] == want["positives_user"]
    assert m["table_stats"]["rec_samples"]["negatives"] == want["negatives_user"]
    assert table_rows(m, "products") == table_rows(m, "images") == counts["products"]
    assert m["stages"]["rec_samples.scene"] == {"in": want["samples_user"], "out": want["samples_user"], "dead": 0, "filtered": 0}
    # published split -> mmdial split, per table
    for published, split in (("train", "train"), ("dev", "valid"), ("devtest", "devtest"), ("teststd", "teststd")):
        assert m["tables"]["dialogs"][split]["rows"] == counts["by_flavour_split"]["2.1"][published]["dialogs"]
    assert "teststd" not in m["tables"]["rec_samples"]  # public test-std has no user annotations: no (0-row) file


def test_products_and_crops_are_built_once_per_scene_object(corpus, built21):
    raw, _ = corpus
    out, _ = built21
    products = rows(out, "products")
    images = {r["source_key"]: r for r in rows(out, "images")}
    ids = [p["product_id"] for p in products]
    assert len(ids) == len(set(ids)) and set(ids) == set(images)
    prefab = {}
    for name in ("fashion", "furniture"):
        prefab.update(json.load(open(os.path.join(raw, "data", f"{name}_prefab_metadata_all.json"))))
    import cv2

    for p in products:
        scene, index = p["product_id"].rsplit(":", 1)
        obj = next(
            o
            for o in json.load(open(os.path.join(raw, "data", "public", f"{scene}_scene.json")))["scenes"][0]["objects"]
            if o["index"] == int(index)
        )
        img = images[p["product_id"]]
        assert img["source"] == "crop" and p["image_ids"] == [img["image_id"]]
        x, y, h, w = obj["bbox"]  # [x, y, HEIGHT, WIDTH], clipped to the 200x120 screenshot
        assert (img["width"], img["height"]) == (min(200, x + w) - max(0, x), min(120, y + h) - max(0, y))
        decoded = cv2.imdecode(np.frombuffer(img["data"], np.uint8), cv2.IMREAD_COLOR)
        assert decoded.shape[:2] == (img["height"], img["width"])
        meta = prefab[obj["prefab_path"]]
        attrs = pairs_to_dict(p["attributes"])
        assert attrs["type"] == str(meta["type"]) and p["category"] == str(meta["type"])
        assert attrs["prefab_path"] == obj["prefab_path"] and f"color: {meta['color']}" in p["description"]


def test_crops_show_the_object_drawn_in_its_bbox(built21):
    """The generator fills each bbox with the prefab's colour: the crop's centre has that colour."""
    import cv2

    from pipelines.simmc.generator import COLORS

    out, _ = built21
    images = {r["source_key"]: r for r in rows(out, "images")}
    hits = 0
    products = rows(out, "products")
    for p in products:
        img = cv2.imdecode(np.frombuffer(images[p["product_id"]]["data"], np.uint8), cv2.IMREAD_COLOR)
        h, w = img.shape[:2]
        centre = img[h // 2 - 1 : h // 2 + 2, w // 2 - 1 : w // 2 + 2].reshape(-1, 3).mean(axis=0)
        want = np.array(COLORS[pairs_to_dict(p["attributes"])["color"]][::-1], float)
        hits += np.abs(centre - want).max() < 40
    assert hits / len(products) > 0.75  # stripes and thin shapes may miss the exact centre


def test_samples_positives_and_negatives_partition_the_scene(corpus, built21):
    raw, _ = corpus
    out, _ = built21
    turns = {(t["dialog_id"], t["turn_index"]): t for t in rows(out, "turns")}
    for s in rows(out, "rec_samples"):
        system = turns[(s["dialog_id"], s["turn_index"])]
        user = turns[(s["dialog_id"], s["turn_index"] - 1)]
        assert system["speaker"] == "system" and user["speaker"] == "user"
        ann = json.loads(user["annotations"])
        scene = {p.rsplit(":", 1)[0] for p in s["positive_ids"] + s["negative_ids"]}
        assert len(scene) == 1
        scene = scene.pop()
        assert scene.endswith(ann["scene"]) or ann["scene"].endswith(scene)
        objs = ann["annotated"]["act_attributes"]["objects"]
        assert s["positive_ids"] == [f"{scene}:{o}" for o in dict.fromkeys(objs)]
        doc = json.load(open(os.path.join(raw, "data", "public", f"{scene}_scene.json")))
        every = {f"{scene}:{o['index']}" for o in doc["scenes"][0]["objects"]}
        assert set(s["positive_ids"]) | set(s["negative_ids"]) == every
        assert not set(s["positive_ids"]) & set(s["negative_ids"])
        assert s["context"][-1]["speaker"] == "user" and s["context"][-1]["text"] == user["text"]
        assert s["num_negatives"] == len(s["negative_ids"]) and s["sample_id"] == f"{s['dialog_id']}:{s['turn_index']}"


def test_scene_in_force_changes_mid_dialog(built21):
    out, _ = built21
    changed = 0
    turns = rows(out, "turns")
    for d in rows(out, "dialogs"):
        scene_ids = {int(k): v for k, v in json.loads(d["meta"])["scene_ids"].items()}
        if len(scene_ids) < 2:
            continue
        for t in (t for t in turns if t["dialog_id"] == d["dialog_id"]):
            ann = json.loads(t["annotations"])
            want = scene_ids[max(k for k in scene_ids if k <= ann["turn_idx"])]
            assert ann["scene"] == want
            changed += ann["turn_idx"] >= min(k for k in scene_ids if k > 0)
    assert changed > 0


def test_dialog_states_accumulate_user_slots(corpus, built21):
    raw, _ = corpus
    out, _ = built21
    doc = json.load(open(os.path.join(raw, "data", "simmc2.1_dials_dstc11_train.json")))
    states = {}
    for s in rows(out, "dialog_states"):
        states.setdefault(s["dialog_id"], []).append(s)
    checked = 0
    for dialog in doc["dialogue_data"]:
        belief = {}
        got = sorted(states[str(dialog["dialogue_idx"])], key=lambda s: s["turn_index"])
        assert [s["turn_index"] for s in got] == [2 * k for k in range(len(dialog["dialogue"]))]
        for t, s in zip(dialog["dialogue"], got, strict=True):
            belief.update({k: str(v) for k, v in t["transcript_annotated"]["act_attributes"]["slot_values"].items()})
            assert pairs_to_dict(s["slots"]) == belief and s["source"] == "gold"
            checked += 1
    assert checked > 20


def test_teststd_public_keeps_turns_and_marks_the_withheld_response(built21):
    out, _ = built21
    turns = [t for t in rows(out, "turns") if t["split"] == "teststd"]
    by_dialog = {}
    for t in turns:
        by_dialog.setdefault(t["dialog_id"], []).append(t)
    assert by_dialog
    for ts in by_dialog.values():
        ts.sort(key=lambda t: t["turn_index"])
        last = ts[-1]
        assert last["speaker"] == "system" and last["text"] == "" and json.loads(last["annotations"])["response_withheld"] is True
        assert all(t["text"] for t in ts[:-1])
        assert all("annotated" not in json.loads(t["annotations"]) for t in ts if t["speaker"] == "user")


def test_rerun_resumes_and_is_identical(corpus, built21):
    raw, _ = corpus
    out, first = built21
    again = build(raw, out)
    assert again["run"]["shards_resumed"] == again["num_shards"]
    assert content_view(again) == content_view(first)


def test_2_0_and_2_1_files_yield_the_same_turns_and_text(corpus, built21, tmp_path):
    raw, counts = corpus
    out21, _ = built21
    out20 = str(tmp_path / "v20")
    builder = SIMMCBuilder(raw=raw, version="2.0", chunk_bytes=4000)  # small chunks: many dialog units
    assert sum(u.kind == "dialogs" for u in builder.plan()) > 8
    m = run_build(builder, BuildOptions(out=out20, workers=1, progress=False))
    assert m["build_config"]["version"] == "2.0" and m["dead_letters"]["count"] == 0
    key = lambda t: (t["dialog_id"], t["turn_index"], t["speaker"], t["text"], t["split"])  # noqa: E731
    assert sorted(map(key, rows(out20, "turns"))) == sorted(map(key, rows(out21, "turns")))
    assert table_rows(m, "rec_samples") == counts["by_flavour"]["2.0"]["samples_user"]
    # 2.0 keeps objects on ambiguous turns (label on the turn); 2.1 empties them (label in the annotation)
    assert counts["by_flavour"]["2.0"]["samples_user"] > counts["by_flavour"]["2.1"]["samples_user"]
    labels20 = Counter(json.loads(t["annotations"]).get("disambiguation_label") for t in rows(out20, "turns") if t["speaker"] == "user")
    assert labels20[1] > 0


def test_objects_from_system(corpus, tmp_path):
    raw, counts = corpus
    m = build(raw, str(tmp_path / "sys"), objects_from="system")
    want = counts["by_flavour"]["2.1"]
    assert table_rows(m, "rec_samples") == want["samples_system"]
    assert m["table_stats"]["rec_samples"]["positives"] == want["positives_system"]
    assert m["tables"]["rec_samples"]["teststd"]["rows"] > 0  # test-std keeps system objects


def test_scan_chunks_non_ascii_files_on_dialog_boundaries():
    dialogs = [{"dialogue_idx": i, "text": "café ☕ " * i} for i in range(7)]
    data = json.dumps({"year": "2022", "dialogue_data": dialogs, "split": "test"}, ensure_ascii=False, indent=2).encode()
    scan = fl.scan_dialog_file(data)
    assert scan.header == {"year": "2022", "split": "test"} and scan.tail is None
    assert [json.loads(data[a:b]) for a, b in scan.spans] == dialogs
    chunks = fl.chunk_spans(scan.spans, 60)
    assert len(chunks) > 1
    rebuilt = [d for _, a, b in chunks for d in json.loads(b"[" + data[a:b] + b"]")]
    assert rebuilt == dialogs and [c[0] for c in chunks] == sorted(c[0] for c in chunks)
    cut = fl.scan_dialog_file(data[: scan.spans[4][0] + 10])
    assert len(cut.spans) == 4 and cut.tail == (scan.spans[4][0], scan.spans[4][0] + 10)
    with pytest.raises(fl.ScanError):
        fl.scan_dialog_file(b'[{"dialogue_idx": 1}]')


def test_files_are_found_by_name_and_one_flavour_is_chosen():
    found = fl.index_raw(
        [
            ("r/a/simmc2.1_dials_dstc11_dev.json", 1),
            ("r/b/c/simmc2_dials_dstc10_dev.json", 1),
            ("r/simmc2_dials_dstc10_dev_retrieval_candidates.json", 1),
            ("r/simmc2.1_dials_dstc11_mini.json", 1),
            ("r/simmc2.1_dials_dstc11_train.json", 1),
            ("r/x/m_cloth_store_1_scene.json", 1),
            ("r/zip/public/m_cloth_store_1_scene.json", 1),
            ("r/imgs/cloth_store_1.png", 1),
            ("r/fashion_prefab_metadata_all.json", 1),
        ]
    )
    assert found.scenes == {"m_cloth_store_1": ("r/x/m_cloth_store_1_scene.json", 1)}
    assert set(found.screenshots) == {"cloth_store_1"} and len(found.prefab_files) == 1
    assert [(f.version, f.published_split) for f in fl.choose_dialog_files(found.dialog_files, "auto", None)] == [
        ("2.1", "dev"),
        ("2.1", "train"),
    ]
    assert [f.split for f in fl.choose_dialog_files(found.dialog_files, "2.0", None)] == ["valid"]
    assert {f.published_split for f in fl.choose_dialog_files(found.dialog_files, "2.1", True)} == {"dev", "mini", "train"}


def test_cli_generate_and_build(tmp_path):
    from typer.testing import CliRunner

    from pipelines.cli.main import app

    runner = CliRunner()
    raw, out = str(tmp_path / "raw"), str(tmp_path / "out")
    res = runner.invoke(
        app,
        ["generate", "simmc", "--out", raw, "--dialogs", "12", "--objects", "5", "--width", "120", "--height", "80", "--flavour", "2.0"],
    )
    assert res.exit_code == 0, res.output
    assert not os.path.exists(os.path.join(raw, "data", "simmc2.1_dials_dstc11_train.json"))
    res = runner.invoke(app, ["build", "simmc", "--raw", raw, "--out", out, "--workers", "1", "--quiet", "--crop-format", "png"])
    assert res.exit_code == 0, res.output
    m = json.load(open(os.path.join(out, "manifest.json")))
    assert m["dataset"] == "simmc" and m["build_config"]["version"] == "2.0"
    assert {r["format"] for r in rows(out, "images")} == {"png"}
    res = runner.invoke(app, ["build", "simmc", "--raw", str(tmp_path / "nothing"), "--out", out, "--quiet"])
    assert res.exit_code == 2


def test_check_scene_judges_each_object():
    from pipelines.simmc.reader import parse_dialog
    from pipelines.simmc.scenes import check_scene

    objs = [
        {"index": 0, "prefab_path": "a", "bbox": [0, 0, 10, 20]},
        {"index": 1, "prefab_path": "missing", "bbox": [0, 0, 10, 20]},
        {"index": 2, "prefab_path": "a", "bbox": [500, 0, 10, 20]},  # right of a 100x50 screenshot
        {"index": 0, "prefab_path": "a", "bbox": [5, 5, 5, 5]},  # duplicate index
        {"index": "3", "prefab_path": "a", "bbox": [0, 0, 1, 1]},
        {"index": 4, "prefab_path": "a", "bbox": [90, 40, 30, 30]},  # runs off the corner: clipped, kept
    ]
    data = json.dumps({"scenes": [{"objects": objs}]}).encode()
    st = check_scene("s", data, (100, 50), "s.png", {"a": {"type": "x"}})
    assert sorted(st.objects) == [0, 4] and st.objects[4].crop_box(100, 50) == (90, 40, 100, 50)
    assert "no prefab metadata entry for 'missing'" in st.problems[1]
    assert "lies outside the 100x50 screenshot" in st.problems[2]
    assert st.problems[0] == "object 0: duplicate index" and "index must be an integer" in st.problems[-5]
    assert st.unusable().startswith("scene s: ") and st.unusable().endswith("(+1 more)")
    assert check_scene("s", data, None, "s.png", {}).error == "screenshot s.png not found"
    assert "does not parse" in check_scene("s", b"{", (1, 1), "s.png", {}).error
    d = parse_dialog(
        {"dialogue_idx": 1, "scene_ids": {"2": "b", "0": "a"}, "dialogue": [{"turn_idx": i, "transcript": "x"} for i in range(4)]}
    )
    assert [d.scene_at(i) for i in range(4)] == ["a", "a", "b", "b"]
