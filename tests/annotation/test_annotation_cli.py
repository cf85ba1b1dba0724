"""`mmdial annotate` as a data manager uses it: one-line errors, fast failure when the server is down,
the privacy gate, pushes limited to a selection, and the project's own labeling config."""

from __future__ import annotations

import json
import os
import time

import pyarrow.parquet as pq
import pytest
from annotation_testkit import jddc_tables
from typer.testing import CliRunner

from annotation.projects import open_project
from annotation.server import free_port

pytestmark = [pytest.mark.labelstudio, pytest.mark.slow]  # one real server per session: its start alone takes ~40 s


def _write_build(root, tables) -> str:
    for name, t in tables.items():
        os.makedirs(root / name, exist_ok=True)
        pq.write_table(t, root / name / f"{name}-all-00000-of-00001.parquet")
    return str(root)


def _run(*args, env=None):
    from pipelines.cli.main import app

    start = time.monotonic()
    res = CliRunner().invoke(app, list(args), env=env)
    return res, time.monotonic() - start


def _one_line_error(res, *needles):
    assert res.exit_code == 2, (res.exit_code, res.output)
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.output
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def env(ls_server):
    return {"MMDIAL_LS_DATA_DIR": str(ls_server.data_dir), "MMDIAL_LS_TOKEN": None, "MMDIAL_LS_URL": None}


def test_server_down_fails_at_once_in_one_line(ls_server, tmp_path):
    # a data dir whose server is gone (state left behind by a killed server)
    gone = tmp_path / "gone"
    (gone / "mmdial").mkdir(parents=True)
    port = free_port()
    (gone / "mmdial" / "server.json").write_text(json.dumps({"pid": 999999, "port": port, "url": f"http://127.0.0.1:{port}"}))
    for args in (
        ["annotate", "status"],
        ["annotate", "pull", "--project", "abc", "--out", str(tmp_path / "o")],
        ["annotate", "qc", "report", "--project", "abc"],
    ):
        res, took = _run(*args, "--data-dir", str(gone))
        _one_line_error(res, "not running")
        assert took < 10
    # a URL where nothing listens: one line after one quick attempt, not minutes of retries
    res, took = _run("annotate", "status", "--url", f"http://127.0.0.1:{port}", env={"MMDIAL_LS_TOKEN": "0" * 40})
    _one_line_error(res, "no Label Studio answers")
    assert took < 20


def test_wrong_token_unknown_project_short_name_and_bad_input_are_one_line(ls_server, env, tmp_path):
    res, _ = _run("annotate", "status", "--url", ls_server.url, env={"MMDIAL_LS_TOKEN": "0" * 40, "MMDIAL_LS_DATA_DIR": None})
    _one_line_error(res, "refuses the API token")
    for args in (["annotate", "qc", "report", "--project", "no-such-project"], ["annotate", "status", "--project", "no-such-project"]):
        _one_line_error(_run(*args, env=env)[0], "no mmdial project named 'no-such-project'")
    src = _write_build(tmp_path / "build", jddc_tables(1))
    _one_line_error(_run("annotate", "push", "summary", "--from", src, "--project", "ab", env=env)[0], "3 to 50")
    notparquet = tmp_path / "turns.parquet"
    notparquet.write_text("dialog_id,text\n")
    _one_line_error(
        _run("annotate", "push", "summary", "--from", str(notparquet), "--project", "abc", env=env)[0], "not a readable Parquet"
    )


def test_push_refuses_unchecked_images_and_incomplete_tasks(ls_server, ls_client, env, project_name, tmp_path):
    tables = jddc_tables(4, privacy_status="unchecked")
    src = _write_build(tmp_path / "build", tables)
    refused = _one_line_error(_run("annotate", "push", "summary", "--from", src, "--project", project_name, env=env)[0])
    assert refused.startswith("error: 6 image(s) with privacy_status unchecked") and "--allow-unchecked-images" in refused
    assert all(p["title"] != project_name for p in ls_client.projects())  # nothing was sent

    # no images table: refused; allowed explicitly, then a corrected push creates the tasks with images
    turns_only = _write_build(tmp_path / "turns-only", {"turns": tables["turns"]})
    _one_line_error(_run("annotate", "push", "summary", "--from", turns_only, "--project", project_name, env=env)[0], "--without-images")
    res, _ = _run("annotate", "push", "summary", "--from", turns_only, "--project", project_name, "--without-images", env=env)
    assert res.exit_code == 0 and "without their 6 image(s)" in res.stderr
    assert json.loads(res.stdout)["created"] == 4
    # `--from A B` is `--from A --from B`
    masked = _write_build(tmp_path / "masked", jddc_tables(4, privacy_status="masked"))
    res, _ = _run(
        "annotate",
        "push",
        "summary",
        "--from",
        os.path.join(masked, "turns"),
        os.path.join(masked, "images"),
        "--project",
        project_name,
        env=env,
    )
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    assert (rep["created"], rep["images_carried"], rep["unchecked_images"]) == (4, 6, 0)
    tasks = ls_client.list_tasks(open_project(ls_client, project_name).id)
    # tasks pushed without images show the "no image" picture (an empty list hangs the editor)
    shown = sorted(sum(1 for u in t["data"]["images"] if not u.endswith("/no-image.png")) for t in tasks)
    assert shown == [0, 0, 0, 0, 1, 1, 2, 2]
    res, _ = _run("annotate", "push", "summary", "--from", src, "--project", project_name, "--allow-unchecked-images", env=env)
    assert res.exit_code == 0 and "6 image(s) with privacy_status unchecked" in res.stderr and "pushed to the crowd" in res.stderr


def test_push_only_the_proposal_and_not_what_is_annotated(ls_server, ls_client, env, project_name, tmp_path):
    from annotation import results as R

    src = _write_build(tmp_path / "build", jddc_tables(6))
    proposal = tmp_path / "proposal.jsonl"
    proposal.write_text("".join(json.dumps({"dialog_id": f"S{i:04d}", "split": "train"}) + "\n" for i in (1, 4)))
    res, _ = _run("annotate", "push", "summary", "--from", src, "--project", project_name, "--only", str(proposal), env=env)
    rep = json.loads(res.stdout)
    assert (rep["created"], rep["not_selected"]) == (2, 4)
    info = open_project(ls_client, project_name)
    assert sorted(t["data"]["session_id"] for t in ls_client.list_tasks(info.id)) == ["S0001", "S0004"]
    done = ls_client.list_tasks(info.id)[0]
    ls_client.create_annotation(done["id"], [R.textarea("summary", "dialogue", "已标注")])
    # the session changed since (a new build): its annotated unit is not pushed again; the rest goes out
    tables = jddc_tables(6)
    turns = tables["turns"].to_pylist()
    for t in turns:
        t["text"] = t["text"] + "。" if t["text"] else t["text"]
    from schemas import get

    changed = _write_build(tmp_path / "changed", {"turns": get("turns").to_arrow(turns), "images": tables["images"]})
    res, _ = _run("annotate", "push", "summary", "--from", changed, "--project", project_name, env=env)
    rep = json.loads(res.stdout)
    assert (rep["created"], rep["already_annotated"]) == (5, 1)

    # status: real values, per project
    res, _ = _run("annotate", "status", env=env)
    mine = [p for p in json.loads(res.stdout) if p["project"] == project_name]
    assert mine == [{"project": project_name, "flow": "summary", "total": 7, "done": 1, "requeued": 0}]


def test_flows_prints_the_projects_own_config_and_the_report_is_not_cut(ls_server, ls_client, env, tmp_path):
    from annotation.flows.dialog_state import DEFAULT_SLOTS
    from schemas import get

    tables = jddc_tables(2)
    gold = {
        "dataset": "jddc",
        "dialog_id": "S0000",
        "split": "train",
        "turn_index": 0,
        "source": "gold",
        "annotator": None,
        "created_at": None,
    }
    states = get("dialog_states").to_arrow([{**gold, "slots": [("size", "L")]}])
    src = _write_build(tmp_path / "b", {**tables, "dialog_states": states})
    title = "a-project-with-a-rather-long-name-" + os.urandom(3).hex()
    res, _ = _run(
        "annotate", "push", "dialog_state", "--from", src, "--project", title, "--slots", "brand,color,size,fit,sleeve,collar", env=env
    )
    assert res.exit_code == 0, res.output
    res, _ = _run("annotate", "flows", "--config", "dialog_state", "--project", title, env=env)
    headers = [x.split('value="')[1].split('"')[0] for x in res.stdout.splitlines() if "<TextArea" in x]
    assert headers == ["brand", "color", "size", "fit", "sleeve", "collar"]
    res, _ = _run("annotate", "flows", "--config", "dialog_state")
    assert len([x for x in res.stdout.splitlines() if "<TextArea" in x]) == len(DEFAULT_SLOTS)

    res, _ = _run("annotate", "qc", "report", "--project", title, env=env)
    assert res.exit_code == 0 and title in res.stdout and "…" not in res.stdout
    assert "re-annotation" in res.stdout or "not sampled" in res.stdout
