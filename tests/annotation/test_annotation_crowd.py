"""The crowd round trip against the real server, with annotators working through the web session:
a failed group is re-queued, its tasks come back through "next task", the fixes pass QC in round 2,
and the pull attributes every version to whoever made it. Also: the data dir stays owner-only and
no export is left on the server after a pull; annotators cannot change mmdial's project settings."""

from __future__ import annotations

import json
import os
import stat
import uuid
from fractions import Fraction

import pyarrow.parquet as pq
import pytest
from annotation_testkit import WebAnnotator, jddc_tables

from annotation import qc
from annotation import results as R
from annotation.projects import open_project
from annotation.status import project_status
from annotation.sync import pull, push
from annotation.tasks import GROUP_FIELD, KEY_FIELD, ROUND_FIELD
from schemas.core import SPLIT_SHARED

pytestmark = [pytest.mark.labelstudio, pytest.mark.slow]
GROUP = 4
HALF = Fraction(1, 2)


def _summary(text: str):
    return lambda data: [R.textarea("summary", "dialogue", f"{text}（{data['session_id']}）")]


def _review_all(client, project: str, accept: bool) -> int:
    review = open_project(client, qc.review_title(project))
    uid = client.create_user("reviewer@example.org")
    n = 0
    for t in client.list_tasks(review.id):
        if t["annotations"]:
            continue
        verdict = qc.ACCEPT if accept else qc.REJECT
        client.create_annotation(t["id"], [R.choices("verdict", "item", [verdict])], lead_time=2.0, completed_by=uid)
        n += 1
    return n


def _history(out: str) -> list[dict]:
    return pq.read_table(os.path.join(out, "annotation_history", f"annotation_history-{SPLIT_SHARED}-00000-of-00001.parquet")).to_pylist()


def test_requeued_group_reaches_annotators_and_the_fix_passes_round_two(ls_server, ls_client, project_name, tmp_path):
    push(ls_client, "summary", jddc_tables(GROUP), project_name, group_size=GROUP)
    info = open_project(ls_client, project_name)
    tag = uuid.uuid4().hex[:6]
    poor = WebAnnotator(ls_server.url, ls_server.token(), f"poor-{tag}@example.org")
    good = WebAnnotator(ls_server.url, ls_server.token(), f"good-{tag}@example.org")

    # round 1: the good annotator skips the first task it is served, the poor one answers everything
    skipped = good.next(info.id)
    good.skip(skipped["id"])
    first = poor.work_through(info.id, _summary("随便写写"))
    assert len(first) == GROUP and {a["completed_by"] for a in first} == {poor.id}
    assert poor.next(info.id) is None and good.next(info.id) is None  # all labeled

    sample = qc.sample(ls_client, project_name, seed=3, fraction=HALF)
    assert [(s["group"], s["round"], s["sample"]) for s in sample["sampled"]] == [(0, 1, 2)]
    assert _review_all(ls_client, project_name, accept=False) == 2
    assert qc.report(ls_client, project_name, fraction=HALF)["groups"][0]["qc"] == "fail: to requeue"
    assert qc.requeue(ls_client, project_name)["requeued"] == {0: {"from_round": 1, "to_round": 2, "tasks": GROUP}}
    assert project_status(ls_client, project_name)["requeued"] == GROUP

    # round 2: "next task" serves every re-queued task, starting from the rejected answer to fix
    fixed = []
    while (task := good.next(info.id)) is not None:
        assert task["data"][ROUND_FIELD] == 2
        # the editor pre-fills the predictions "next" serves: the rejected answer, to be fixed
        assert "rejected in QC" in task["data"]["mmdial_prefill_source"]
        assert ["随便写写" in json.dumps(p["result"], ensure_ascii=False) for p in task["predictions"]] == [True]
        fixed.append(good.submit(task["id"], _summary("用户反映电饭煲故障，客服建议售后维修")(task["data"])))
    assert len(fixed) == GROUP and {a["completed_by"] for a in fixed} == {good.id}
    st = project_status(ls_client, project_name)
    assert (st["total"], st["done"], st["requeued"]) == (GROUP, GROUP, 0)
    assert st["groups"] == [{"group": 0, "tasks": GROUP, "done": GROUP, "round": 2, "qc": "re-annotation (round 2)"}]

    second = qc.sample(ls_client, project_name, seed=3, fraction=HALF)
    assert [(s["group"], s["round"]) for s in second["sampled"]] == [(0, 2)]
    assert _review_all(ls_client, project_name, accept=True) == 2
    assert [g["qc"] for g in qc.report(ls_client, project_name, fraction=HALF)["groups"]] == ["pass"]

    out = str(tmp_path / "pulled")
    rep = pull(ls_client, project_name, out)
    assert (rep.tasks, rep.done, rep.lines, rep.dead) == (GROUP, GROUP, GROUP, 0)
    hist = _history(out)
    by_round = {(h["qc_round"], h["annotator"], h["was_cancelled"], h["version"], h["current"]) for h in hist}
    assert by_round == {
        (1, good.email, True, 0, False),  # the skip is no version of the answer
        (1, poor.email, False, 1, False),
        (2, good.email, False, 2, True),
    }
    assert len(hist) == 2 * GROUP + 1
    made = {a["id"]: a for a in first + fixed}
    for h in hist:
        if h["annotation_id"] in made:
            assert h["created_at"] == made[h["annotation_id"]]["created_at"].replace("+00:00", "Z")
    with open(os.path.join(out, "summaries.jsonl"), encoding="utf-8") as fh:
        lines = [json.loads(x) for x in fh]
    assert {(x["annotator"], x["version"]) for x in lines} == {(good.email, 2)}
    assert {x["created_at"] for x in lines} == {a["created_at"].replace("+00:00", "Z") for a in fixed}

    # someone else edits a done answer in place (Update): a new version, attributed to the editor
    edited = fixed[0]
    poor.update(edited["id"], _summary("改过的摘要")({"session_id": "edit"}))
    pull(ls_client, project_name, out)
    versions = [h for h in _history(out) if h["annotation_id"] == edited["id"]]
    assert [(h["version"], h["annotator"], h["current"], h["qc_round"]) for h in versions] == [
        (2, good.email, False, 2),
        (3, poor.email, True, 2),
    ]
    assert versions[0]["created_at"] == versions[1]["created_at"] < versions[1]["updated_at"]

    # the pull left no export on the server, and nothing under the data dir is open to other users
    leftovers = [os.path.join(d, f) for sub in ("export", "media/export") for d, _, fs in os.walk(ls_server.data_dir / sub) for f in fs]
    assert leftovers == []
    loose = []
    for d, dirs, files in os.walk(ls_server.data_dir):
        for name in [*dirs, *files]:
            mode = stat.S_IMODE(os.lstat(os.path.join(d, name)).st_mode)
            if mode & 0o077:
                loose.append((os.path.join(d, name), oct(mode)))
    assert stat.S_IMODE(os.stat(ls_server.data_dir).st_mode) == 0o700 and loose == []


def test_an_annotator_editing_the_project_changes_nothing_mmdial_relies_on(ls_server, ls_client, project_name):
    push(ls_client, "discourse", jddc_tables(2), project_name)
    info = open_project(ls_client, project_name)
    crowd = WebAnnotator(ls_server.url, ls_server.token(), f"meddler-{uuid.uuid4().hex[:6]}@example.org")
    # Label Studio Community has no roles: any member may edit a project's settings (documented in the README)
    edit = crowd.edit_project(info.id, description='mmdial:{"flow": "summary", "params": {}, "group_size": 100}', title=project_name + "x")
    assert edit == 200
    again = open_project(ls_client, project_name)  # found under mmdial's name, settings from mmdial's store
    assert (again.id, again.flow, again.params) == (info.id, "discourse", info.params)
    assert project_status(ls_client, project_name)["flow"] == "discourse"
    assert stat.S_IMODE(os.stat(ls_server.projects_file).st_mode) == 0o600
    tasks = ls_client.list_tasks(info.id)
    assert {t["data"][GROUP_FIELD] for t in tasks} == {0} and len({t["data"][KEY_FIELD] for t in tasks}) == 2
