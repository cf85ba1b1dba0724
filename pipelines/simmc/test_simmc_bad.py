"""Bad SIMMC input goes to dead letters with reasons, and the rest still builds.

One generated release is damaged in every way at once (generator `--bad` plus edits here): a
truncated dialog file, a dialog file of the wrong type, dialogs with wrong types, a missing scene
JSON, a missing screenshot, a missing prefab entry, a bbox of the wrong type, a scene JSON that
does not parse, and a screenshot whose header reads but whose pixels do not decode.
"""

from __future__ import annotations

import json
import os
from collections import Counter

import pytest

from pipelines.core.engine import BuildOptions, run_build
from pipelines.core.parquet import read_table
from pipelines.simmc.builder import SIMMCBuilder
from pipelines.simmc.generator import GeneratorConfig, generate


def _user_samples_by_scene(raw: str, names: list[str]) -> Counter:
    """User-side samples per scene file, over the dialogs of `names` that are well-formed."""
    scenes = {f[: -len("_scene.json")] for f in os.listdir(os.path.join(raw, "data", "public"))}
    out: Counter = Counter()
    for name in names:
        for d in json.load(open(os.path.join(raw, "data", name)))["dialogue_data"]:
            if not isinstance(d["dialogue"], list) or not all(isinstance(t["turn_idx"], int) for t in d["dialogue"]):
                continue
            starts = {int(k): v for k, v in d["scene_ids"].items()}
            for t in d["dialogue"]:
                if ((t.get("transcript_annotated") or {}).get("act_attributes") or {}).get("objects"):
                    s = starts[max(k for k in starts if k <= t["turn_idx"])]
                    out[s if s in scenes or f"m_{s}" not in scenes else f"m_{s}"] += 1
    return out


@pytest.fixture(scope="module")
def damaged(tmp_path_factory):
    raw = str(tmp_path_factory.mktemp("simmc-bad"))
    counts = generate(GeneratorConfig(out=raw, dialogs=60, objects=6, width=160, height=100, bad=5, flavour="2.1", seed=11))
    data = os.path.join(raw, "data")
    # dev: cut inside the second dialog -> the first builds, the rest is one dead letter
    dev = os.path.join(data, "simmc2.1_dials_dstc11_dev.json")
    text = open(dev).read()
    second = text.index('{"dialogue": [', text.index('{"dialogue": [') + 1)
    open(dev, "w").write(text[: second + 40])
    # devtest: a JSON list instead of the split object
    open(os.path.join(data, "simmc2.1_dials_dstc11_devtest.json"), "w").write("[1, 2, 3]")
    # three train scenes with samples, each on its own screenshot: damage each differently
    per_scene = _user_samples_by_scene(raw, ["simmc2.1_dials_dstc11_train.json"])
    shots = Counter(s[2:] if s.startswith("m_") else s for s in os.listdir(os.path.join(data, "public")))
    pick = [s for s, n in per_scene.most_common() if "bad" not in s and shots[(s[2:] if s.startswith("m_") else s) + "_scene.json"] == 1][
        :3
    ]
    bbox_scene, json_scene, pixel_scene = pick
    path = os.path.join(data, "public", f"{bbox_scene}_scene.json")
    doc = json.load(open(path))
    doc["scenes"][0]["objects"][1]["bbox"] = "oops"
    json.dump(doc, open(path, "w"))
    path = os.path.join(data, "public", f"{json_scene}_scene.json")
    open(path, "w").write(open(path).read()[:50])
    shot = os.path.join(data, "images", (pixel_scene[2:] if pixel_scene.startswith("m_") else pixel_scene) + ".png")
    png = open(shot, "rb").read()
    idat = png.index(b"IDAT") + 4  # chunks intact, compressed pixel data zeroed: the size reads, the pixels do not
    open(shot, "wb").write(png[:idat] + b"\0" * (len(png) - idat))
    out = str(tmp_path_factory.mktemp("simmc-bad-out"))
    manifest = run_build(SIMMCBuilder(raw=raw), BuildOptions(out=out, workers=1, progress=False))
    kept = _user_samples_by_scene(raw, ["simmc2.1_dials_dstc11_train.json"])
    kept["dev"] = 0
    dev_first = json.loads(text[text.index('{"dialogue": [') : text.rindex("}", 0, second) + 1])
    return {
        "raw": raw,
        "out": out,
        "m": manifest,
        "counts": counts,
        "per_scene": per_scene,
        "bbox": bbox_scene,
        "json": json_scene,
        "pixels": pixel_scene,
        "dev_first": dev_first,
        "dead": read_table(out, "dead_letters").to_pylist(),
    }


def _by_stage(dead):
    return Counter(d["stage"] for d in dead)


def test_dead_letter_counts_per_stage(damaged):
    m, dead, per_scene = damaged["m"], damaged["dead"], damaged["per_scene"]
    assert m["counts_reconcile"]
    dead_scenes = [s for s in per_scene if "bad_missing" in s] + [damaged["bbox"], damaged["json"]]
    dead_samples = sum(per_scene[s] for s in dead_scenes)
    assert (
        dead_samples
        == damaged["counts"]["by_flavour"]["2.1"]["dead_samples_user"] + per_scene[damaged["bbox"]] + per_scene[damaged["json"]]
    )
    stages = _by_stage(dead)
    # turns naming products of a dead scene keep the ids that resolve; each such turn is one dead letter
    assert stages.pop("turns.item_ids") > 0
    assert stages == Counter(
        {
            "dialogs": 3,  # wrong_type + wrong_turn_type + the truncated rest of dev
            "dialog_files": 1,  # devtest is a list
            "scenes": 3,  # missing screenshot, unparsable scene JSON, undecodable screenshot
            "products": 2,  # missing prefab entry, bbox of the wrong type
            # the dialog side decodes screenshots as the scene side does: undecodable pixels are seen there
            "rec_samples": dead_samples + per_scene[damaged["pixels"]],
        }
    )
    assert (m["integrity"]["dangling"], m["integrity"]["duplicates"]) == ({}, {})
    assert m["dead_letters"]["count"] == len(dead)
    # what is not dead builds: train samples of healthy scenes, plus those of the first dev dialog
    dev_samples = sum(1 for t in damaged["dev_first"]["dialogue"] if t["transcript_annotated"]["act_attributes"]["objects"])
    healthy = sum(n for s, n in per_scene.items() if s not in dead_scenes + [damaged["pixels"]])
    assert m["tables"]["rec_samples"]["train"]["rows"] == healthy
    assert m["tables"]["rec_samples"]["valid"]["rows"] == dev_samples
    assert m["tables"]["dialogs"]["valid"]["rows"] == 1 and "devtest" not in m["tables"]["dialogs"]


def test_dead_letter_reasons(damaged):
    dead = damaged["dead"]

    def reasons(stage):
        return [d["reason"] for d in dead if d["stage"] == stage]

    assert sorted(r.split(":")[0] for r in reasons("dialogs")) == [
        "dialogs from dialogue_data[1] on do not decode (truncated or corrupt file)",
        "wrong type",
        "wrong type",
    ]
    assert any("dialogue must be a list of turns" in r for r in reasons("dialogs"))
    assert any("dialogue[0].turn_idx must be an integer" in r for r in reasons("dialogs"))
    assert reasons("dialog_files") == ["wrong type: a dialog file must be a JSON object, got list"]
    scenes = sorted(reasons("scenes"))
    assert any(r.endswith("screenshot cloth_store_bad_missing_screenshot_3.png not found") for r in scenes)
    assert any(damaged["json"] in r and "scene JSON does not parse" in r for r in scenes)
    assert any(r == "cannot decode screenshot" for r in scenes)
    products = reasons("products")
    assert any("no prefab metadata entry for 'WomensCollection/Prefabs/NotInMetadata_4'" in r for r in products)
    assert any(f"scene {damaged['bbox']}: object 1: bbox must be 4 numbers" in r for r in products)
    by_scene = Counter(r.split(":")[0] for r in reasons("rec_samples"))
    assert by_scene[f"scene {damaged['bbox']}"] == damaged["per_scene"][damaged["bbox"]]
    samples = reasons("rec_samples")
    assert (
        sum("scene JSON not found (no cloth_store_bad_missing_scene_2_scene.json" in r for r in samples)
        == damaged["per_scene"]["cloth_store_bad_missing_scene_2"]
    )
    assert (
        sum("screenshot cloth_store_bad_missing_screenshot_3.png not found" in r for r in samples)
        == damaged["per_scene"]["cloth_store_bad_missing_screenshot_3"]
    )
    assert sum("no prefab metadata entry" in r for r in samples) == damaged["per_scene"]["cloth_store_bad_missing_prefab_4"]
    # an undecodable screenshot is judged on the dialog side too: its samples are dead there, not published
    assert not reasons("rec_samples.scene")
    assert (
        sum(
            f"screenshot {damaged['pixels'][2:] if damaged['pixels'].startswith('m_') else damaged['pixels']}.png: cannot decode screenshot"
            in r
            for r in samples
        )
        == damaged["per_scene"][damaged["pixels"]]
    )
    for d in dead:
        assert d["source"] and d["locator"] and d["excerpt"] is not None


def test_rest_of_a_damaged_scene_still_builds_products(damaged):
    out = damaged["out"]
    products = {p["product_id"] for p in read_table(out, "products").to_pylist()}
    prefab_scene = "cloth_store_bad_missing_prefab_4"
    assert f"{prefab_scene}:0" not in products and f"{prefab_scene}:1" in products
    assert f"{damaged['bbox']}:1" not in products and f"{damaged['bbox']}:0" in products
    assert not any(p.startswith(f"{damaged['json']}:") or p.startswith(f"{damaged['pixels']}:") for p in products)
    turns = read_table(out, "turns").to_pylist()
    bad_dialog_turns = [t for t in turns if t["dialog_id"] == "900002"]  # its scene JSON is missing
    assert bad_dialog_turns and all(t["text"] for t in bad_dialog_turns if t["speaker"] == "user")
