"""The group acceptance check on crafted review outcomes, through the `mmdial annotate` CLI.

Groups of 20 sessions with a 50% sample keep the test fast (each API write costs the Label Studio
dev server ~0.2 s) while the sample stays at 10 items with the 90% pass mark at 9 of them, as with the
paper's defaults (10% of 100); the defaults' arithmetic is covered in test_annotation_units.py.
"""

from __future__ import annotations

import json
import os
from fractions import Fraction

import pyarrow.parquet as pq
import pytest
from annotation_testkit import annotate_all, jddc_tables, summary_result
from typer.testing import CliRunner

from annotation import qc
from annotation import results as R
from annotation.sync import open_project, push
from annotation.tasks import GROUP_FIELD, KEY_FIELD, ROUND_FIELD

pytestmark = [pytest.mark.labelstudio, pytest.mark.slow]  # one real server per session: its start alone takes ~40 s
GROUP = 20
FRACTION = Fraction(1, 2)


@pytest.fixture
def cli(ls_server, monkeypatch):
    from pipelines.cli.main import app

    monkeypatch.setenv("MMDIAL_LS_DATA_DIR", str(ls_server.data_dir))
    runner = CliRunner()
    outputs = []

    def run(*args):
        res = runner.invoke(app, list(args), catch_exceptions=False)
        outputs.append(res.output)
        assert res.exit_code == 0, res.output
        return res.output

    run.outputs = outputs
    return run


def _review(client, project, verdicts_for_group):
    """A reviewer accepts or rejects each sampled item of a group: verdicts_for_group[g] = list of bools."""
    review = open_project(client, qc.review_title(project))
    uid = client.create_user("reviewer@example.org")
    by_group = {}
    for t in client.list_tasks(review.id):
        if not any(not a.get("was_cancelled") for a in t["annotations"]):
            by_group.setdefault(t["data"]["qc_group"], []).append(t)
    for g, verdicts in verdicts_for_group.items():
        tasks = sorted(by_group[g], key=lambda t: t["data"]["target_key"])
        assert len(tasks) == len(verdicts)
        for t, ok in zip(tasks, verdicts, strict=True):
            result = [R.choices("verdict", "item", [qc.ACCEPT if ok else qc.REJECT])] + (
                [] if ok else [R.textarea("comment", "item", "summary misses the fault code")]
            )
            client.create_annotation(t["id"], result, lead_time=2.0, completed_by=uid)


def test_acceptance_check_samples_scores_and_requeues(ls_server, ls_client, project_name, cli, tmp_path):
    push(ls_client, "summary", jddc_tables(45), project_name, group_size=GROUP)
    info = open_project(ls_client, project_name)
    annotate_all(ls_client, info.id, summary_result)
    tasks = ls_client.list_tasks(info.id)
    keys_by_group = {}
    for t in tasks:
        keys_by_group.setdefault(t["data"][GROUP_FIELD], []).append(t["data"][KEY_FIELD])
    assert {g: len(k) for g, k in keys_by_group.items()} == {0: GROUP, 1: GROUP, 2: 5}

    sample = json.loads(cli("annotate", "qc", "sample", "--project", project_name, "--seed", "7", "--fraction", "0.5"))
    assert [(s["group"], s["round"], s["sample"]) for s in sample["sampled"]] == [(0, 1, 10), (1, 1, 10)]
    assert "partial" in sample["skipped"]["2"]
    for s in sample["sampled"]:  # the recorded sample is the seeded draw
        assert s["task_keys"] == qc.draw(keys_by_group[s["group"]], 7, s["group"], 1, FRACTION)
    again = json.loads(cli("annotate", "qc", "sample", "--project", project_name, "--seed", "7", "--fraction", "0.5"))
    assert again["sampled"] == [] and len(ls_client.list_tasks(open_project(ls_client, qc.review_title(project_name)).id)) == 20

    # group 0: 9 of 10 accepted (exactly 90%: passes); group 1: 8 of 10 (fails)
    _review(ls_client, project_name, {0: [True] * 9 + [False], 1: [True] * 8 + [False] * 2})
    rep_path = tmp_path / "qc.json"
    text = cli("annotate", "qc", "report", "--project", project_name, "--fraction", "0.5", "--json", str(rep_path))
    assert "Operating characteristic" in text
    rep = json.loads(rep_path.read_text())
    g = {x["group"]: x for x in rep["groups"]}
    assert (g[0]["qc"], g[0]["rounds"][0]["rate"]) == ("pass", 0.9)
    assert (g[1]["qc"], g[1]["rounds"][0]["rate"]) == ("fail: to requeue", 0.8)
    assert g[2]["qc"] == "not sampled"
    assert len(rep["operating_characteristic"]) == 21

    req = json.loads(cli("annotate", "qc", "requeue", "--project", project_name))
    assert req["requeued"] == {"1": {"from_round": 1, "to_round": 2, "tasks": GROUP}}
    assert json.loads(cli("annotate", "qc", "requeue", "--project", project_name))["requeued"] == {}
    after = {t["data"][KEY_FIELD]: t for t in ls_client.list_tasks(info.id)}
    group1 = [t for t in after.values() if t["data"][GROUP_FIELD] == 1]
    # recorded in the task, then deleted so that they stop counting against the overlap ("next task" serves them again)
    assert all(t["data"][ROUND_FIELD] == 2 and not t["is_labeled"] and t["annotations"] == [] for t in group1)
    assert all(len(t["data"]["mmdial_superseded"]) == 1 for t in group1)
    assert all(t["data"][ROUND_FIELD] == 1 and t["is_labeled"] for t in after.values() if t["data"][GROUP_FIELD] != 1)

    out = str(tmp_path / "pulled")
    cli("annotate", "pull", "--project", project_name, "--out", out)
    with open(os.path.join(out, "summaries.jsonl"), encoding="utf-8") as fh:
        assert len(fh.readlines()) == 25  # group 1 awaits re-annotation: not exported
    status = json.loads(cli("annotate", "status", "--project", project_name))
    assert (status["total"], status["done"], status["requeued"]) == (45, 25, GROUP)
    assert [x["qc"] for x in status["groups"]] == ["pass", "re-annotation (round 2)", "not sampled"]

    # re-annotation of group 1, a fresh sample of round 2, all accepted
    annotate_all(ls_client, info.id, summary_result, email="second@example.org")
    second = json.loads(cli("annotate", "qc", "sample", "--project", project_name, "--seed", "7", "--fraction", "0.5"))
    assert [(s["group"], s["round"]) for s in second["sampled"]] == [(1, 2)]
    assert second["sampled"][0]["task_keys"] == qc.draw(keys_by_group[1], 7, 1, 2, FRACTION)
    _review(ls_client, project_name, {1: [True] * 10})
    final = qc.report(ls_client, project_name, fraction=FRACTION)
    assert [x["qc"] for x in final["groups"]] == ["pass", "pass", "not sampled"]

    cli("annotate", "pull", "--project", project_name, "--out", out)
    hist = pq.read_table(os.path.join(out, "annotation_history", "annotation_history-shared-00000-of-00001.parquet")).to_pylist()
    g1 = [h for h in hist if h["task_key"] in set(keys_by_group[1])]
    assert len(g1) == 2 * GROUP and sorted({(h["qc_round"], h["annotator"], h["current"]) for h in g1}) == [
        (1, "annotator@example.org", False),
        (2, "second@example.org", True),
    ]
    samples = pq.read_table(os.path.join(out, "qc_samples", "qc_samples-shared-00000-of-00001.parquet")).to_pylist()
    reviews = pq.read_table(os.path.join(out, "qc_reviews", "qc_reviews-shared-00000-of-00001.parquet")).to_pylist()
    assert len(samples) == 30 and {s["seed"] for s in samples} == {7}
    assert len(reviews) == 30 and sum(not r["accepted"] for r in reviews) == 3
    with open(os.path.join(out, "summaries.jsonl"), encoding="utf-8") as fh:
        lines = [json.loads(x) for x in fh]
    assert len(lines) == 45 and {x["annotator"] for x in lines if x["session_id"] in {t["data"]["session_id"] for t in group1}} == {
        "second@example.org"
    }

    token = ls_server.token()
    assert not any(token in o for o in cli.outputs)
