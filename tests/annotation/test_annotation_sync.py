"""Sync against the real server: idempotent push, identical pulls, history, and a server restart mid-sync."""

from __future__ import annotations

import filecmp
import json
import os
import threading
import time

import pyarrow.parquet as pq
import pytest
from annotation_testkit import annotate_all, jddc_tables, summary_result

from annotation import results as R
from annotation import versions
from annotation.sync import open_project, pull, push
from annotation.tasks import KEY_FIELD

pytestmark = [pytest.mark.labelstudio, pytest.mark.slow]  # one real server per session: its start alone takes ~40 s


def _restart_in_background(server, pause: float = 1.0) -> threading.Thread:
    """Stop the server now; start it again from another thread while the sync is retrying."""
    server.stop()
    assert not server.status()["running"]

    def again():
        threading.Event().wait(pause)
        server.start()

    t = threading.Thread(target=again, daemon=True)
    t.start()
    return t


def _keys(client, project) -> list[str]:
    return [t["data"][KEY_FIELD] for t in client.list_tasks(open_project(client, project).id)]


def test_push_twice_creates_no_duplicates_and_pull_twice_is_identical(ls_client, project_name, tmp_path):
    tables = jddc_tables(6)
    first = push(ls_client, "summary", tables, project_name)
    again = push(ls_client, "summary", tables, project_name)
    assert (first.created, first.already_there) == (6, 0)
    assert (again.created, again.already_there) == (0, 6)
    keys = _keys(ls_client, project_name)
    assert len(keys) == len(set(keys)) == 6
    annotate_all(ls_client, open_project(ls_client, project_name).id, summary_result)
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    pull(ls_client, project_name, a)
    pull(ls_client, project_name, b)
    cmp = filecmp.dircmp(a, b)
    files = [os.path.relpath(os.path.join(r, f), a) for r, _, fs in os.walk(a) for f in fs]
    assert len(files) >= 5 and not cmp.diff_files
    assert all(filecmp.cmp(os.path.join(a, f), os.path.join(b, f), shallow=False) for f in files)
    assert not any(f.startswith(".") for f in os.listdir(a))  # no snapshot or state left behind


def test_history_keeps_every_version_with_annotator_and_lead_time(ls_server, ls_client, project_name, tmp_path):
    push(ls_client, "summary", jddc_tables(2), project_name)
    pid = open_project(ls_client, project_name).id
    made = annotate_all(ls_client, pid, summary_result, email="first@example.org", lead_time=3.0)
    out = str(tmp_path / "pulled")
    pull(ls_client, project_name, out)
    # the data manager (admin token) edits one summary in place (Label Studio overwrites the annotation),
    # later than the creation (an Update within versions._SAME_VERSION_S of it counts as the creation)
    time.sleep(versions._SAME_VERSION_S + 0.2)
    ls_client.update_annotation(made[0]["id"], [R.textarea("summary", "dialogue", "修改后的摘要：售后维修。")], lead_time=9.0)
    pull(ls_client, project_name, out)
    hist = pq.read_table(os.path.join(out, "annotation_history", "annotation_history-shared-00000-of-00001.parquet")).to_pylist()
    edited = [h for h in hist if h["annotation_id"] == made[0]["id"]]
    assert [h["version"] for h in edited] == [1, 2] and [h["current"] for h in edited] == [False, True]
    assert "修改后" in edited[1]["result"] and "修改后" not in edited[0]["result"]
    assert [h["annotator"] for h in edited] == ["first@example.org", ls_server.admin()["email"]]  # each version by its maker
    assert {h["annotator"] for h in hist if h not in edited} == {"first@example.org"} and {h["lead_time_s"] for h in edited} == {3.0, 9.0}
    with open(os.path.join(out, "summaries.jsonl"), encoding="utf-8") as fh:
        lines = [json.loads(x) for x in fh]
    edited_line = [x for x in lines if "修改后" in x["summary"]]
    assert len(lines) == 2 and len(edited_line) == 1 and edited_line[0]["version"] == 2


def test_server_restart_mid_push_loses_and_doubles_nothing(ls_server, ls_client, project_name):
    tables = jddc_tables(60)
    restarted = []

    def on_batch(n, left):
        if n == 2 and not restarted:
            restarted.append(_restart_in_background(ls_server))

    rep = push(ls_client, "summary", tables, project_name, batch_size=10, on_batch=on_batch)
    restarted[0].join(timeout=300)
    assert restarted and rep.recoveries >= 1
    assert rep.created == 60
    keys = _keys(ls_client, project_name)
    assert len(keys) == len(set(keys)) == 60


def test_server_restart_mid_pull_resumes_the_same_snapshot(ls_server, ls_client, project_name, tmp_path):
    push(ls_client, "summary", jddc_tables(5), project_name)
    annotate_all(ls_client, open_project(ls_client, project_name).id, summary_result)
    ref = str(tmp_path / "reference")
    pull(ls_client, project_name, ref)

    # 1. the server goes away between snapshot and download: the pull waits and carries on
    out = str(tmp_path / "restarted")
    threads = []
    rep = pull(
        ls_client, project_name, out, on_stage=lambda s: threads.append(_restart_in_background(ls_server)) if s == "snapshot" else None
    )
    threads[0].join(timeout=300)
    assert rep.lines == 5 and filecmp.cmp(os.path.join(ref, "summaries.jsonl"), os.path.join(out, "summaries.jsonl"), shallow=False)

    # 2. the pulling process dies after the snapshot was made: the next pull reuses that snapshot
    out2 = str(tmp_path / "crashed")

    def crash(stage):
        if stage == "snapshot":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pull(ls_client, project_name, out2, on_stage=crash)
    resumed = pull(ls_client, project_name, out2)
    assert resumed.snapshot_reused and resumed.lines == 5
    for name in (
        "summaries.jsonl",
        "annotation_history/annotation_history-shared-00000-of-00001.parquet",
        "annotation_tasks/annotation_tasks-shared-00000-of-00001.parquet",
    ):
        assert filecmp.cmp(os.path.join(ref, name), os.path.join(out2, name), shallow=False), name
