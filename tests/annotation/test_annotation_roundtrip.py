"""Round trips against the real server: push generated data, annotate through the API, pull, merge."""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from annotation_testkit import (
    annotate_all,
    dialog_state_result,
    discourse_result,
    jddc_tables,
    privacy_result,
    query_rewrite_result,
    summary_result,
)

from annotation.projects import SyncError
from annotation.sync import open_project, pull, push
from annotation.tasks import load_tables
from annotation.taxonomy import discourse_relations

pytestmark = [pytest.mark.labelstudio, pytest.mark.slow]  # one real server per session: its start alone takes ~40 s


def _lines(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(x) for x in fh if x.strip()]


def _table(out: str, name: str):
    return pq.read_table(os.path.join(out, name, f"{name}-shared-00000-of-00001.parquet"))


COMMON = {"annotator", "created_at", "updated_at", "lead_time_s", "version"}


def _check_common(line: dict, annotator: str = "annotator@example.org", lead_time: float = 7.5) -> None:
    """The provenance every exported line carries, with its real values."""
    from datetime import UTC, datetime, timedelta

    assert (line["annotator"], line["lead_time_s"], line["version"]) == (annotator, lead_time, 1), line
    created = datetime.fromisoformat(line["created_at"].replace("Z", "+00:00"))
    assert timedelta(0) <= datetime.now(UTC) - created < timedelta(hours=1), line
    assert line["updated_at"] >= line["created_at"]


@pytest.fixture(scope="module")
def mmd_build(tmp_path_factory):
    """A generated MMD corpus (no states) and its MMD-v2 build (the turns to annotate)."""
    from pipelines.core.engine import BuildOptions, run_build
    from pipelines.mmd.builder import MMDBuilder
    from pipelines.mmd.generator import GeneratorConfig, generate

    root = tmp_path_factory.mktemp("mmd")
    raw, v2 = str(root / "raw"), str(root / "v2")
    generate(GeneratorConfig(out=raw, dialogs=8, seed=5, states_fraction=0.0, image_size=24))
    run_build(MMDBuilder(raw=raw), BuildOptions(out=v2, workers=1, progress=False), command="test")
    return raw, v2


def test_dialog_state_round_trip_into_mmd_v3_build(ls_client, project_name, mmd_build, tmp_path):
    from pipelines.core.engine import BuildOptions, run_build
    from pipelines.core.parquet import read_table
    from pipelines.mmd.builder import MMDBuilder

    raw, v2 = mmd_build
    turns = load_tables(v2)["turns"]
    chosen = sorted(set(turns.column("dialog_id").to_pylist()))[:3]
    subset = turns.filter(pc.is_in(turns.column("dialog_id"), value_set=pa.array(chosen)))
    pq.write_table(subset, tmp_path / "turns.parquet")
    products, images = os.path.join(v2, "products"), os.path.join(v2, "images")
    inputs = load_tables(str(tmp_path / "turns.parquet"), products, images)
    # the MMD build's images have not been through the privacy stage: refused unless said explicitly
    with pytest.raises(SyncError, match="privacy_status unchecked"):
        push(ls_client, "dialog_state", inputs, project_name)
    rep = push(ls_client, "dialog_state", inputs, project_name, allow_unchecked_images=True)
    n_user = sum(1 for r in subset.to_pylist() if r["speaker"] == "user")
    assert rep.tasks == rep.created == n_user and rep.dead == [] and rep.unchecked_images > 0
    info = open_project(ls_client, project_name)
    assert {"color", "type", "material", "brand"} <= set(info.params["slots"])
    annotate_all(ls_client, info.id, dialog_state_result(info.params["slots"]))

    out = str(tmp_path / "pulled")
    pr = pull(ls_client, project_name, out)
    assert pr.lines == n_user and pr.dead == 0
    states = _lines(os.path.join(out, "states.jsonl"))
    for s in states:
        _check_common(s)
        assert s["source"] == "annotated"
        assert s["slots"]["color"] == f"c{s['turn_index']}"
        assert ("type" in s["slots"]) == (s["turn_index"] % 2 == 1)  # "none" means not in the state

    v3 = str(tmp_path / "v3")
    manifest = run_build(
        MMDBuilder(raw=raw, states_path=os.path.join(out, "states.jsonl"), v3=True),
        BuildOptions(out=v3, workers=1, progress=False),
        command="test",
    )
    assert manifest["counts_reconcile"]
    built = read_table(v3, "dialog_states").to_pylist()
    assert sorted((r["dialog_id"], r["turn_index"]) for r in built) == sorted((s["dialog_id"], s["turn_index"]) for s in states)
    assert all(r["source"] == "annotated" and r["annotator"] == "annotator@example.org" for r in built)
    assert sorted(set(read_table(v3, "dialogs").column("dialog_id").to_pylist())) == chosen
    assert read_table(v3, "dead_letters").num_rows == 0


@pytest.fixture(scope="module")
def jddc_inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("jddc")
    tables = jddc_tables(4)
    for name, t in tables.items():
        os.makedirs(root / name)
        pq.write_table(t, root / name / f"{name}-shared-00000-of-00001.parquet")
    return str(root), tables


def _jddc_round_trip(ls_client, project, flow, make_result, src, tmp_path):
    rep = push(ls_client, flow, load_tables(src), project)
    assert rep.dead == [] and rep.created == rep.tasks > 0
    annotate_all(ls_client, open_project(ls_client, project).id, make_result)
    out = str(tmp_path / flow)
    pr = pull(ls_client, project, out)
    assert pr.dead == 0, _table(out, "dead_letters").to_pylist()
    return _lines(os.path.join(out, pr.export_file)), rep


LAYER_TABLES = {"query_rewrites.jsonl": "jddc_query_rewrites", "discourse.jsonl": "jddc_discourse", "summaries.jsonl": "jddc_summaries"}


def _merge_into_jddc_build(tmp_path, layer_files: dict[str, str], tables=None):
    """Write the annotated sessions as native JDDC input, build with the exported layer, check the join."""
    import shutil

    from pipelines.core.parquet import read_table
    from pipelines.jddc.builder import JDDCBuilder
    from tests.conftest import build

    tables = tables or jddc_tables(4)
    raw = tmp_path / "jddc-raw"
    (raw / "images").mkdir(parents=True)
    for img in tables["images"].to_pylist():
        (raw / "images" / img["source_key"]).write_bytes(img["data"])
    lines = []
    for t in tables["turns"].to_pylist():
        text = t["image_refs"][0] if t["image_refs"] else t["text"]
        lines.append("\t".join([t["dialog_id"], "小家电", "100001", text, "1" if t["speaker"] == "system" else "0"]))
    (raw / "data_train.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name, path in layer_files.items():
        shutil.copy(path, raw / name)
    out = tmp_path / "jddc-build"
    manifest = build(JDDCBuilder(raw=str(raw)), out)
    assert manifest["counts_reconcile"] and manifest["dead_letters"]["count"] == 0, read_table(str(out), "dead_letters").to_pylist()
    assert sum(s["rows"] for s in manifest["tables"]["turns"].values()) == tables["turns"].num_rows
    for name, path in layer_files.items():
        exported = _lines(path)
        joined = read_table(str(out), LAYER_TABLES[name]).to_pylist()
        assert len(joined) == len(exported) > 0
        assert {r["dialog_id"] if "dialog_id" in r else r["session_id"] for r in joined} == {x["session_id"] for x in exported}
    return out


def test_query_rewrite_round_trip(ls_client, project_name, jddc_inputs, tmp_path):
    src, tables = jddc_inputs
    lines, rep = _jddc_round_trip(ls_client, project_name, "query_rewrite", query_rewrite_result, src, tmp_path)
    # per session: the run (0: text, 1: image) -> query turn 0; session with an image at 3 -> query turn 3
    assert rep.tasks == 4 + 2
    assert sorted((x["session_id"], x["turn_index"]) for x in lines) == sorted(
        [(f"S{s:04d}", 0) for s in range(4)] + [(f"S{s:04d}", 3) for s in (0, 2)]
    )
    for x in lines:
        _check_common(x)
        assert set(x) == {"session_id", "turn_index", "rewritable", "rewritten", "query_turn_indices"} | set(COMMON)
        if x["turn_index"] == 0:
            assert x["rewritable"] is True and isinstance(x["rewritten"], str) and "E3" in x["rewritten"]
        else:  # the scripted annotator says no for odd query turns
            assert x["rewritable"] is False and x["rewritten"] is None
    assert {tuple(x["query_turn_indices"]) for x in lines} == {(0, 1), (3,)}
    out = _merge_into_jddc_build(tmp_path, {"query_rewrites.jsonl": str(tmp_path / "query_rewrite" / "query_rewrites.jsonl")})
    from pipelines.core.parquet import read_table

    # every query keeps its images, also when they sit on an earlier turn of the query than its text
    built = read_table(str(out), "jddc_query_rewrites").to_pylist()
    refs = {r["turn_index"]: r for r in tables["turns"].to_pylist() if r["dialog_id"] == "S0000"}
    s0 = {r["turn_index"]: r["query_image_refs"] for r in built if r["dialog_id"] == "S0000"}
    assert s0 == {0: refs[1]["image_refs"], 3: refs[3]["image_refs"]} and all(r["query_image_refs"] for r in built)


def test_discourse_round_trip(ls_client, project_name, jddc_inputs, tmp_path):
    src, tables = jddc_inputs
    lines, rep = _jddc_round_trip(ls_client, project_name, "discourse", discourse_result, src, tmp_path)
    assert rep.tasks == 4 and len(lines) == 4 * 4  # one line per EDU except the first
    allowed = set(discourse_relations())
    for x in lines:
        _check_common(x)
        assert set(x) == {"session_id", "turn_index", "parent_turn_index", "relation"} | set(COMMON)
        assert x["parent_turn_index"] == x["turn_index"] - 1 and x["relation"] in allowed
    from schemas.jddc import DISCOURSE_RELATIONS

    assert set(DISCOURSE_RELATIONS) == allowed
    _merge_into_jddc_build(tmp_path, {"discourse.jsonl": str(tmp_path / "discourse" / "discourse.jsonl")})


def test_summary_round_trip(ls_client, project_name, jddc_inputs, tmp_path):
    src, tables = jddc_inputs
    lines, rep = _jddc_round_trip(ls_client, project_name, "summary", summary_result, src, tmp_path)
    assert sorted(x["session_id"] for x in lines) == [f"S{s:04d}" for s in range(4)]
    for x in lines:
        _check_common(x)
        assert set(x) == {"session_id", "trivial_turn_indices", "summary"} | set(COMMON)
        assert x["trivial_turn_indices"] == [0, 2] and "售后" in x["summary"]
    _merge_into_jddc_build(tmp_path, {"summaries.jsonl": str(tmp_path / "summary" / "summaries.jsonl")})


def test_privacy_check_round_trip(ls_client, project_name, tmp_path):
    # images straight from a build: not yet through the privacy stage (the privacy-check flow is for them)
    tables = jddc_tables(4, privacy_status="unchecked")
    src = str(tmp_path / "unchecked")
    for name, t in tables.items():
        os.makedirs(os.path.join(src, name))
        pq.write_table(t, os.path.join(src, name, f"{name}-all-00000-of-00001.parquet"))
    images = tables["images"].to_pylist()
    cands = tmp_path / "candidates.jsonl"
    cands.write_text(
        "".join(json.dumps({"image_id": r["image_id"], "source_key": r["source_key"], "uri": None}) + "\n" for r in images[:5])
        + json.dumps({"image_id": "f" * 64, "source_key": "gone.jpg", "uri": "/nonexistent.jpg"})
        + "\n"
    )
    from annotation.tasks import load_records

    rep = push(ls_client, "privacy_check", load_tables(os.path.join(src, "images")), project_name, {"candidates": load_records(str(cands))})
    assert rep.records_in == 6 and rep.created == 5 and [d["locator"] for d in rep.dead] == ["f" * 64]  # in = tasks + dead
    annotate_all(ls_client, open_project(ls_client, project_name).id, privacy_result)
    out = str(tmp_path / "privacy")
    pr = pull(ls_client, project_name, out)
    lines = _lines(os.path.join(out, "privacy_manual.jsonl"))
    assert pr.dead == 0 and sorted(x["image_id"] for x in lines) == sorted(r["image_id"] for r in images[:5])
    for x in lines:
        _check_common(x)
        assert set(x) == {"image_id", "status", "boxes"} | set(COMMON)
        if int(x["image_id"], 16) % 2 == 0:
            assert x["status"] == "clean" and x["boxes"] == []
        else:  # 10%, 20%, 50% x 25% of a 48 x 48 image, in pixels
            assert x["status"] == "masked" and x["boxes"] == [{"x": 5, "y": 10, "w": 24, "h": 12, "label": "phone"}]
    # merge: the privacy stage applies the exported boxes to the images (the final, published bytes)
    import cv2
    import numpy as np

    from pipelines.core.parquet import read_table
    from pipelines.privacy.builder import ManualBuilder
    from tests.conftest import build

    final = tmp_path / "final"
    manifest = build(
        ManualBuilder(input=os.path.join(src, "images"), manual_path=os.path.join(out, "privacy_manual.jsonl"), dataset_name="jddc"), final
    )
    assert manifest["dead_letters"]["count"] == 0 and manifest["counts_reconcile"]
    published = {r["image_id"]: r for r in read_table(str(final), "images").to_pylist()}
    for x in lines:
        row = published[x["image_id"]]
        if x["status"] == "clean":
            assert row["privacy_status"] == "clean"
            continue
        assert row["privacy_status"] == "manual_masked"
        pixels = cv2.imdecode(np.frombuffer(row["data"], np.uint8), cv2.IMREAD_COLOR)
        b = x["boxes"][0]
        inner = pixels[b["y"] + 2 : b["y"] + b["h"] - 2, b["x"] + 2 : b["x"] + b["w"] - 2]
        assert inner.size and float(inner.mean()) < 12 and float(inner.std()) < 8, "manual box must be a solid fill"
        assert json.loads(row["privacy_audit"])["manual"]["boxes"] == x["boxes"]
