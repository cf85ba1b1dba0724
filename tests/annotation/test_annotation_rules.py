"""Server-free rules: which annotation counts, who made each version, what may reach the crowd, the forms."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from annotation_testkit import jddc_tables

from annotation import results as R
from annotation import versions as V
from annotation.cli import read_selection
from annotation.client import validate_label_config
from annotation.flows import get_flow
from annotation.flows.dialog_state import _slot_field
from annotation.projects import ProjectInfo, SyncError, check_title
from annotation.sync import PushReport, build_pull_tables, image_safety
from annotation.tasks import FLOW_FIELD, KEY_FIELD, ROUND_FIELD, SUPERSEDED_FIELD, UNIT_FIELD, InputError, image_src, load_tables
from schemas import get

USERS = {1: "poor@example.org", 2: "good@example.org", 3: "other@example.org"}


def _ann(aid, result, who, created, updated=None, editor=None, cancelled=False):
    return {
        "id": aid,
        "result": result,
        "completed_by": who,
        "updated_by": editor if editor is not None else who,
        "created_at": created,
        "updated_at": updated or created,
        "lead_time": 4.0,
        "was_cancelled": cancelled,
    }


def _task(flow, annotations, round_=1, superseded=None, **data):
    return {
        "id": 1,
        "data": {
            **data,
            KEY_FIELD: "k1",
            UNIT_FIELD: "u1",
            FLOW_FIELD: flow,
            ROUND_FIELD: round_,
            SUPERSEDED_FIELD: superseded or {},
        },
        "annotations": annotations,
    }


def _summary(text):
    return [R.textarea("summary", "dialogue", text)]


SUMMARY_DATA = {"session_id": "S1", "edu_turns": [0, 1], "edus": []}


# -- item 3: an empty belief state is an answer --------------------------------------------------
def test_empty_belief_state_counts_as_done_and_exports_an_empty_state():
    data = {"dataset": "mmd", "dialog_id": "d1", "turn_index": 2}
    empty = _task("dialog_state", [_ann(7, [], 1, "2026-11-01T10:00:00Z")], **data)
    assert V.current_annotation(empty)["id"] == 7 and V.task_status(empty) == "done"
    skipped = _task("dialog_state", [_ann(7, [], 1, "2026-11-01T10:00:00Z", cancelled=True)], **data)
    assert V.current_annotation(skipped) is None and V.task_status(skipped) == "todo"
    # in a flow where nothing is no answer, an empty result stays to do
    assert V.current_annotation(_task("summary", [_ann(7, [], 1, "2026-11-01T10:00:00Z")], **SUMMARY_DATA)) is None
    flow = get_flow("dialog_state")
    info = ProjectInfo(1, "p", "dialog_state", {"slots": ["color", "type"]})
    out = build_pull_tables(info, flow, [empty], USERS, [])
    assert [(ln["dialog_id"], ln["turn_index"], ln["slots"], ln["version"]) for ln in out["lines"]] == [("d1", 2, {}, 1)]


# -- item 2: a fix by Update counts for the new round, each version by its maker -----------------
def test_update_of_a_requeued_annotation_is_the_editors_round_two_version():
    old = _ann(5, _summary("bad"), 1, "2026-11-01T10:00:00Z")
    record = V.record_of(old, 1)
    untouched = _task("summary", [old], round_=2, superseded={"5": record}, **SUMMARY_DATA)
    assert V.current_annotation(untouched) is None and V.task_status(untouched) == "requeued"

    fixed_ann = _ann(5, _summary("good summary"), 1, "2026-11-01T10:00:00Z", "2026-11-03T09:00:00Z", editor=2)
    fixed = _task("summary", [fixed_ann], round_=2, superseded={"5": record}, **SUMMARY_DATA)
    assert V.current_annotation(fixed)["id"] == 5 and V.task_status(fixed) == "done"
    info = ProjectInfo(1, "p", "summary", {})
    out = build_pull_tables(info, get_flow("summary"), [fixed], USERS, [])
    hist = [(h["version"], h["annotator"], h["qc_round"], h["current"], h["created_at"], h["updated_at"]) for h in out["history"]]
    assert hist == [
        (1, "poor@example.org", 1, False, "2026-11-01T10:00:00Z", "2026-11-01T10:00:00Z"),
        (2, "good@example.org", 2, True, "2026-11-01T10:00:00Z", "2026-11-03T09:00:00Z"),
    ]
    (line,) = out["lines"]
    assert (line["summary"], line["annotator"], line["version"]) == ("good summary", "good@example.org", 2)
    assert (line["created_at"], line["updated_at"]) == ("2026-11-01T10:00:00Z", "2026-11-03T09:00:00Z")


def test_requeue_records_survive_the_deletion_of_the_annotation():
    record = V.record_of(_ann(5, _summary("bad"), 1, "2026-11-01T10:00:00Z"), 1)
    new = _ann(9, _summary("better"), 2, "2026-11-04T08:00:00Z")
    task = _task("summary", [new], round_=2, superseded={"5": record}, **SUMMARY_DATA)
    out = build_pull_tables(ProjectInfo(1, "p", "summary", {}), get_flow("summary"), [task], USERS, [])
    assert [(h["annotation_id"], h["version"], h["annotator"], h["qc_round"], h["current"]) for h in out["history"]] == [
        (5, 1, "poor@example.org", 1, False),
        (9, 2, "good@example.org", 2, True),
    ]


def test_a_skip_by_someone_else_is_no_version_of_the_answer():
    skip = _ann(3, [], 3, "2026-11-01T09:00:00Z", cancelled=True)
    answer = _ann(4, _summary("first real answer"), 1, "2026-11-01T10:00:00Z")
    task = _task("summary", [skip, answer], **SUMMARY_DATA)
    out = build_pull_tables(ProjectInfo(1, "p", "summary", {}), get_flow("summary"), [task], USERS, [])
    assert [(h["annotator"], h["was_cancelled"], h["version"]) for h in out["history"]] == [
        ("other@example.org", True, 0),
        ("poor@example.org", False, 1),
    ]
    assert out["lines"][0]["version"] == 1


def test_an_edit_within_a_second_of_creation_is_the_creators():
    a = _ann(4, _summary("x"), 1, "2026-11-01T10:00:00.000100Z", "2026-11-01T10:00:00.000160Z", editor=99)
    assert V.author(a) == 1
    assert V.author({**a, "updated_at": "2026-11-01T10:05:00Z"}) == 99


# -- items 5 and 6: what may go to the crowd ---------------------------------------------------
def _specs(flow_name, tables, params=None):
    flow = get_flow(flow_name)
    return flow, flow.build(tables, params if params is not None else flow.params(tables), {}).tasks


@pytest.mark.parametrize("flow_name", ["summary", "discourse", "query_rewrite"])
def test_unchecked_images_are_refused_unless_allowed(flow_name):
    flow, specs = _specs(flow_name, jddc_tables(4, privacy_status="unchecked"))
    n_images = len({ref for s in specs for ref, _ in s.images})
    assert n_images > 0
    with pytest.raises(SyncError, match=rf"^{n_images} image\(s\) with privacy_status unchecked .*--allow-unchecked-images"):
        image_safety(flow, specs, allow_unchecked=False, without_images=False, report=PushReport("p", flow_name))
    report = PushReport("p", flow_name)
    image_safety(flow, specs, allow_unchecked=True, without_images=False, report=report)
    assert report.unchecked_images == n_images and "--allow-unchecked-images" in report.warnings[0]
    for status in ("masked", "manual_masked", "clean"):
        flow, specs = _specs(flow_name, jddc_tables(4, privacy_status=status))
        ok = PushReport("p", flow_name)
        image_safety(flow, specs, allow_unchecked=False, without_images=False, report=ok)
        assert ok.unchecked_images == 0 and ok.warnings == []


def test_tasks_without_their_images_are_refused_and_keyed_apart():
    tables = jddc_tables(4)
    flow, with_images = _specs("query_rewrite", tables)
    _, without = _specs("query_rewrite", {"turns": tables["turns"]})
    assert [s.unit for s in with_images] == [s.unit for s in without]
    assert not {s.key for s in with_images} & {s.key for s in without}  # a corrected push creates them
    assert all(s.images_missing and s.data["images"] == ["/data/local-files/?d=images/no-image.png"] for s in without)
    with pytest.raises(SyncError, match=r"^6 task\(s\) reference 6 image\(s\) the inputs do not hold.*--without-images"):
        image_safety(flow, without, allow_unchecked=False, without_images=False, report=PushReport("p", "query_rewrite"))
    report = PushReport("p", "query_rewrite")
    image_safety(flow, without, allow_unchecked=False, without_images=True, report=report)
    assert report.images_left_out == 6 and report.warnings


def test_query_rewrite_lines_name_every_turn_of_the_query():
    _, specs = _specs("query_rewrite", jddc_tables(1))
    first = next(s for s in specs if s.data["turn_index"] == 0)
    assert first.data["query_turns"] == [0, 1]  # text at 0, the image at 1
    line = get_flow("query_rewrite").export(first.data, [R.choices("rewritable", "query", ["no"])], {}).lines[0]
    assert line["query_turn_indices"] == [0, 1] and line["turn_index"] == 0


def test_inputs_that_are_not_parquet_fail_in_one_line(tmp_path):
    bad = tmp_path / "turns.parquet"
    bad.write_text("not parquet\n")
    with pytest.raises(InputError, match="not a readable Parquet file") as err:
        load_tables(str(bad))
    assert "\n" not in str(err.value)
    with pytest.raises(InputError, match="no such file"):
        load_tables(str(tmp_path / "nowhere"))
    with pytest.raises(SyncError, match="3 to 50"):
        check_title("ab")


def test_selection_reads_a_select_proposal(tmp_path):
    path = tmp_path / "proposal.jsonl"
    path.write_text('{"dialog_id": "S0001", "split": "train", "stratum": "x"}\n{"dialog_id": "S0003"}\n\nS0004\n')
    assert read_selection(str(path)) == {"S0001", "S0003", "S0004"}
    path.write_text('{"split": "train"}\n')
    with pytest.raises(InputError, match="needs one of"):
        read_selection(str(path))


# -- item 9 and 4: the forms ---------------------------------------------------------------
def test_query_rewrite_form_requires_the_rewrite_once_yes_is_chosen():
    config = get_flow("query_rewrite").label_config({})
    validate_label_config(config)
    root = ET.fromstring(config)
    view = next(v for v in root.iter("View") if v.get("visibleWhen"))
    assert (view.get("visibleWhen"), view.get("whenTagName"), view.get("whenChoiceValue")) == ("choice-selected", "rewritable", "yes")
    (area,) = view.iter("TextArea")
    assert area.get("name") == "rewritten" and area.get("required") == "true"


def _turn(d, i, speaker, text, image_ids=()):
    return {
        "dataset": "mmd",
        "dialog_id": d,
        "split": "train",
        "turn_index": i,
        "speaker": speaker,
        "text": text,
        "text_templated": None,
        "image_refs": [],
        "image_ids": list(image_ids),
        "item_ids": [],
        "annotations": None,
    }


def _state(d, i, slots, source):
    return {
        "dataset": "mmd",
        "dialog_id": d,
        "split": "train",
        "turn_index": i,
        "slots": slots,
        "source": source,
        "annotator": None,
        "created_at": None,
    }


def test_dialog_state_form_shows_images_and_carries_the_previous_state_forward():
    jt = jddc_tables(1)
    image_ids = [r["image_id"] for r in jt["images"].to_pylist()]
    turns = get("turns").to_arrow(
        [
            _turn("d1", 0, "user", "red shirts please"),
            _turn("d1", 1, "system", "here are some", image_ids[:1]),
            _turn("d1", 2, "user", "the second one in blue"),
            _turn("d1", 3, "system", "ok"),
            _turn("d1", 4, "user", "cotton?"),
            _turn("d1", 5, "user", "and this", image_ids[1:2]),
        ]
    )
    states = get("dialog_states").to_arrow(
        [_state("d1", 0, [("color", "red"), ("type", "shirt")], "gold"), _state("d1", 4, [("color", "blue")], "annotated")]
    )
    flow = get_flow("dialog_state")
    params = {"slots": ["color", "material", "type"]}
    built = flow.build({"turns": turns, "dialog_states": states, "images": jt["images"]}, params, {})
    by_unit = {t.unit: t for t in built.tasks}
    assert sorted(by_unit) == ["d1:0", "d1:2", "d1:5"] and built.already_annotated == 1  # turn 4 is annotated already
    carried = by_unit["d1:2"]
    assert carried.prefill_source == "carried from gold turn 0"
    assert {R.text_of(carried.prefill, _slot_field(i)) for i in (0, 2)} == {"red", "shirt"}
    assert by_unit["d1:5"].prefill_source == "carried from annotated turn 4"
    # the page says what the form starts from, as it is
    assert by_unit["d1:0"].data["prefill_note"] == "Pre-filled with 2 value(s), source: gold. Check and correct them."
    assert by_unit["d1:2"].data["prefill_note"] == "Pre-filled with 2 value(s), source: carried from gold turn 0. Check and correct them."
    first = get_flow("dialog_state").build({"turns": turns}, params, {}).tasks[0]
    assert first.unit == "d1:0" and first.data["prefill_note"].startswith("Starts empty: no earlier user turn")
    assert R.text_of(by_unit["d1:5"].prefill, _slot_field(0)) == "blue"
    # the images of the last turns and of the turn itself are shown as images, in order
    # by reference: a URL of the image store (images/<id[:2]>/<id>.jpg under the local-files root), never bytes
    assert by_unit["d1:2"].data["images"] == [f"/data/local-files/?d=images/{image_ids[0][:2]}/{image_ids[0]}.jpg"]
    img = {r["image_id"]: r for r in jt["images"].to_pylist()}
    assert by_unit["d1:5"].data["images"] == [image_src(img[image_ids[1]])]  # turn 1's image is 4 turns back: not repeated
    config = flow.label_config(params)
    validate_label_config(config)
    assert any(i.get("valueList") == "$images" for i in ET.fromstring(config).iter("Image"))


def test_privacy_reviewer_sees_the_boxes_drawn_on_the_image(tmp_path):
    from PIL import Image

    from annotation.images import LocalFilesStore

    row = jddc_tables(1, privacy_status="unchecked")["images"].to_pylist()[0]
    flow = get_flow("privacy_check")
    store = LocalFilesStore(tmp_path / "files")
    (spec,) = flow.build({"images": get("images").to_arrow([row])}, flow.params({}), {"image_store": store}).tasks
    assert store.publish([row["image_id"]]) == 1 and store.read(spec.data["image"]) == row["data"]
    result = [
        R.rectangle("b", "box", "image", 25, 25, 50, 50, "phone", 48, 48),
        R.choices("verdict", "image", ["private information boxed"]),
    ]
    drawn, original = flow.review_images(spec.data, result, store)
    assert original == spec.data["image"] and drawn.startswith("/data/local-files/?d=images/qc/")  # a file, not bytes in the task
    with Image.open(io.BytesIO(store.read(drawn))) as im:
        px = im.convert("RGB").load()
        assert px[12, 24][0] > 200 and px[12, 24][1] < 60  # the box's left edge, red
    html = flow.review_html(spec.data, flow.export(spec.data, result, {}).lines)
    assert "data:image" not in html and "&quot;boxes&quot;: [" in html and "\n" in html.split("<h4>annotation</h4>")[1]


def test_public_url_sets_label_studios_production_settings():
    from annotation.server import ServerError, public_env

    env = public_env("https://annotate.example.org/")
    assert env["LABEL_STUDIO_HOST"] == "https://annotate.example.org"
    assert env["LABEL_STUDIO_CSRF_TRUSTED_ORIGINS"] == "https://annotate.example.org"
    assert env["LABEL_STUDIO_ALLOWED_HOSTS"].split(",")[0] == "annotate.example.org"
    assert env["LABEL_STUDIO_SESSION_COOKIE_SECURE"] == env["LABEL_STUDIO_CSRF_COOKIE_SECURE"] == "1"
    assert env["LABEL_STUDIO_DEBUG"] == "false"
    with pytest.raises(ServerError, match="https"):
        public_env("http://annotate.example.org")


def test_annotation_modules_import_each_other_without_cycles():
    """Layering: every import between annotation's modules (lazy ones too) goes one way (qc no longer imports sync)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "annotation"
    graph: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        name = ".".join(path.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__")
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("annotation"):
                deps.add(node.module)
                if node.module == "annotation":
                    deps.update(f"annotation.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("annotation"))
        graph[name] = {d for d in deps if d != name}
    assert "annotation.sync" not in graph["annotation.qc"] and "annotation.qc" in graph["annotation.sync"]

    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if dep not in graph:
                continue
            assert state.get(dep) != 1, "import cycle: " + " -> ".join([*path, node, dep])
            if dep not in state:
                visit(dep, [*path, node])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])


def test_jddc_reads_the_turns_of_a_query_and_rejects_bad_ones():
    import json

    from pipelines.core.context import Reject
    from pipelines.jddc.layers import parse_rewrite

    line = {"session_id": "S", "turn_index": 3, "rewritable": False, "rewritten": None}
    assert "query_turn_indices" not in parse_rewrite(json.dumps(line).encode())
    assert parse_rewrite(json.dumps({**line, "query_turn_indices": [2, 1]}).encode())["query_turn_indices"] == [1, 2, 3]
    for bad in ([1, "2"], [-1], "1,2", [True]):
        with pytest.raises(Reject, match="query_turn_indices must be a list"):
            parse_rewrite(json.dumps({**line, "query_turn_indices": bad}).encode())
