"""Each flow's labelling page in a real headless Chromium, as an annotator who signed up through the
invite link: the images load (served by reference from the image store) and Chinese text renders,
pre-fills are really in the form, the form is in view, an annotation is submitted through the
editor's own buttons, and `mmdial annotate pull` reads it back.

Screenshots are kept as test artefacts: `$MMDIAL_TEST_ARTEFACTS/browser/` when set (e.g. an ignored
folder of a CI run), else pytest's temporary folder of the session (the path is printed).
"""

from __future__ import annotations

import json
import os
import uuid

import pytest
from annotation_testkit import jddc_tables
from browser_kit import VIEWPORT, BrowserAnnotator, chromium_path

from annotation.projects import open_project
from annotation.sync import pull, push
from annotation.taxonomy import discourse_relations
from schemas import get

pytestmark = [pytest.mark.labelstudio, pytest.mark.slow]
SLOTS = ["brand", "color", "material", "price", "size", "type"]  # six slot fields, as a catalogue of clothes has
CJK = "电饭煲"  # text of every synthetic session


@pytest.fixture(scope="module")
def playwright_driver():
    if chromium_path() is None:
        pytest.fail("no chromium at /usr/bin/chromium (or $MMDIAL_CHROMIUM): `make chromium` installs Debian's package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory) -> str:
    root = os.environ.get("MMDIAL_TEST_ARTEFACTS")
    path = os.path.join(root, "browser") if root else str(tmp_path_factory.mktemp("browser-screenshots"))
    os.makedirs(path, exist_ok=True)
    print(f"\nscreenshots: {path}")
    return path


@pytest.fixture(scope="module")
def annotator(playwright_driver, ls_server, tmp_path_factory, artefacts):
    a = BrowserAnnotator(
        playwright_driver,
        ls_server.url,
        ls_server.token(),
        f"crowd-{uuid.uuid4().hex[:6]}@example.org",
        str(tmp_path_factory.mktemp("chromium-profile")),
        artefacts=artefacts,
    )
    yield a
    a.close()


def _open_first(client, annotator, project: str, pick=None):
    info = open_project(client, project)
    tasks = client.list_tasks(info.id)
    task = pick(tasks) if pick else tasks[0]
    page = annotator.open_task(info.id, task["id"])
    return info, task, page


def _assert_page_basics(annotator, task, shot: str, artefacts: str, cjk: bool = True) -> None:
    annotator.screenshot(os.path.join(artefacts, shot))
    text = annotator.text()
    if cjk:
        assert CJK in text
        # rendered with a CJK font: a Chinese character is about as wide as it is high (tofu boxes and
        # missing glyphs are not), measured on the page
        w, h = annotator.page.evaluate(
            """(s) => { const c = document.createElement('canvas').getContext('2d'); c.font = '16px sans-serif';
                 const m = c.measureText(s); return [m.width / s.length, m.actualBoundingBoxAscent + m.actualBoundingBoxDescent]; }""",
            CJK,
        )
        assert 12 <= w <= 20 and h > 10, (w, h)
    assert "00:00:00" not in text  # no audio time ranges on dialogue turns
    assert annotator.covered_paragraph_texts() == []  # every EDU readable to its last character
    urls = set(task["data"].get("images") or ([task["data"]["image"]] if "image" in task["data"] else []))
    assert urls and all(u.startswith("/data/local-files/") for u in urls)
    # the editor loaded the image it shows from the store; the others (behind its pager) are served too
    loaded = {u for u, status in annotator.local_files if status == 200}
    assert loaded & urls, annotator.local_files
    assert all(annotator.fetch(u)[0] == 200 for u in urls)
    shown = annotator.images()
    assert shown and all(i["natural"] > 0 and i["width"] > 0 for i in shown), shown


def _pulled(client, project: str, out: str, export_file: str) -> list[dict]:
    rep = pull(client, project, out)
    assert rep.dead == 0, open(os.path.join(out, "pull.json")).read()
    with open(os.path.join(out, export_file), encoding="utf-8") as fh:
        return [json.loads(x) for x in fh]


def test_dialog_state_page_is_prefilled_in_view_and_submits(ls_client, annotator, project_name, artefacts, tmp_path):
    tables = jddc_tables(1)
    gold = {"dataset": "jddc", "dialog_id": "S0000", "split": "train", "turn_index": 0, "source": "gold"}
    gold |= {"slots": [("color", "白色"), ("type", "电饭煲")], "annotator": None, "created_at": None}
    tables["dialog_states"] = get("dialog_states").to_arrow([gold])
    push(ls_client, "dialog_state", tables, project_name, {"params": {"slots": SLOTS}})
    # turn 1 has no state of its own: it starts from turn 0's gold state (the belief state is cumulative)
    info, task, page = _open_first(ls_client, annotator, project_name, lambda ts: next(t for t in ts if t["data"]["turn_index"] == 1))
    _assert_page_basics(annotator, task, "dialog_state.png", artefacts)
    text = annotator.text()
    assert "Pre-filled with 2 value(s), source: carried from gold turn 0" in text
    form = annotator.page.locator("textarea, input[type=text]")
    values = annotator.form_values()
    assert {"白色", "电饭煲"} <= set(values), values  # really in the form, not only announced
    # the six slot fields and the Submit button are on screen without scrolling, beside the images
    boxes = [form.nth(i).bounding_box() for i in range(form.count())]
    headers = [annotator.page.get_by_text(s, exact=True).first.bounding_box() for s in SLOTS]
    assert all(b is not None and b["y"] + b["height"] <= VIEWPORT["height"] for b in headers), headers
    assert all(i["width"] <= 300 for i in annotator.images())
    assert boxes  # the empty slots still take a value
    annotator.fill_text(form.first, "美的")
    annotator.submit()
    lines = _pulled(ls_client, project_name, str(tmp_path / "pulled"), "states.jsonl")
    (line,) = [x for x in lines if x["turn_index"] == 1]
    assert line["slots"] == {"brand": "美的", "color": "白色", "type": "电饭煲"} and line["annotator"] == annotator.email


def test_first_turn_without_an_earlier_state_says_it_starts_empty(ls_client, annotator, project_name, artefacts):
    push(ls_client, "dialog_state", jddc_tables(1), project_name, {"params": {"slots": SLOTS}})
    _, task, _ = _open_first(ls_client, annotator, project_name, lambda ts: next(t for t in ts if t["data"]["turn_index"] == 0))
    assert "Starts empty: no earlier user turn of this dialog has a known state." in annotator.text()
    assert annotator.form_values() == []


def test_query_rewrite_page_requires_the_choice_and_submits(ls_client, annotator, project_name, artefacts, tmp_path):
    push(ls_client, "query_rewrite", jddc_tables(1), project_name)
    _, task, page = _open_first(ls_client, annotator, project_name)
    _assert_page_basics(annotator, task, "query_rewrite.png", artefacts)
    choice = annotator.page.locator("input[name=yes]").bounding_box()
    assert choice is not None and choice["y"] + choice["height"] <= VIEWPORT["height"]  # the question is in view
    assert annotator.submit_disabled()  # the required choice is not made yet
    annotator.choose("yes")
    annotator.fill_text(page.locator("textarea").first, "电饭煲屏幕显示E3是什么故障")
    annotator.submit()
    (line,) = [
        x
        for x in _pulled(ls_client, project_name, str(tmp_path / "p"), "query_rewrites.jsonl")
        if x["turn_index"] == task["data"]["turn_index"]
    ]
    assert line["rewritable"] is True and line["rewritten"] == "电饭煲屏幕显示E3是什么故障"


def test_summary_page_shows_edus_without_time_ranges_and_submits(ls_client, annotator, project_name, artefacts, tmp_path):
    push(ls_client, "summary", jddc_tables(1), project_name)
    info, task, page = _open_first(ls_client, annotator, project_name)
    _assert_page_basics(annotator, task, "summary.png", artefacts)
    assert annotator.submit_disabled()  # the summary is required
    annotator.fill_text(page.locator("textarea").first, "用户反映电饭煲显示E3，客服建议售后维修。")
    annotator.submit()
    (line,) = _pulled(ls_client, project_name, str(tmp_path / "p"), "summaries.jsonl")
    assert line["summary"] == "用户反映电饭煲显示E3，客服建议售后维修。" and line["session_id"] == "S0000"
    # the Data Manager shows the readable preview column, not the EDUs' JSON
    columns = annotator.data_manager_columns(info.id)
    assert "preview" in columns and "edus" not in columns, columns
    annotator.screenshot(os.path.join(artefacts, "summary-data-manager.png"))
    assert "S0000 · 5 EDUs · 你好，我买的电饭煲有问题" in annotator.text()


def test_discourse_page_links_edus_through_the_editor(ls_client, annotator, project_name, artefacts, tmp_path):
    push(ls_client, "discourse", jddc_tables(1), project_name)
    _, task, page = _open_first(ls_client, annotator, project_name)
    _assert_page_basics(annotator, task, "discourse.png", artefacts)
    n = len(task["data"]["edus"])
    assert annotator.region_count() == n  # every EDU pre-labelled as a region
    relation = discourse_relations()[0]
    for i in range(1, n):
        annotator.link_regions(i, i - 1)
    assert annotator.label_relations(relation) == n - 1
    annotator.screenshot(os.path.join(artefacts, "discourse-linked.png"))
    annotator.submit()
    lines = _pulled(ls_client, project_name, str(tmp_path / "p"), "discourse.jsonl")
    assert [(x["turn_index"], x["parent_turn_index"], x["relation"]) for x in lines] == [(t, t - 1, relation) for t in range(1, n)]


def test_privacy_check_page_shows_the_image_and_submits(ls_client, annotator, project_name, artefacts, tmp_path):
    tables = jddc_tables(1, privacy_status="unchecked")
    push(ls_client, "privacy_check", {"images": tables["images"]}, project_name)
    _, task, page = _open_first(ls_client, annotator, project_name)
    _assert_page_basics(annotator, task, "privacy_check.png", artefacts, cjk=False)
    verdict = annotator.page.locator("input[name=clean]").bounding_box()
    assert verdict is not None and verdict["y"] + verdict["height"] <= VIEWPORT["height"]  # the verdict is in view
    annotator.choose("clean")
    annotator.submit()
    lines = _pulled(ls_client, project_name, str(tmp_path / "p"), "privacy_manual.jsonl")
    assert [(x["image_id"], x["status"]) for x in lines] == [(task["data"]["image_id"], "clean")]
