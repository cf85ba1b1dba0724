"""The acceptance check of the auto-masked images (issue 20, item 5) end to end on a real Label Studio:
`mmdial mask` (fake OCR) -> `annotate push privacy_check --sample-masked` -> reviewers answer through
the API -> `qc report` -> `qc requeue --from` (the failed group's images all queued) -> the group's
full review -> `pull` -> `mask-manual --acceptance`, whose manifest and card carry the residual estimate."""

from __future__ import annotations

import json
import os

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from annotation import acceptance, qc
from annotation import results as R
from annotation.flows.privacy_check import BOXED, CLEAN
from annotation.projects import open_project
from annotation.status import project_status
from annotation.tasks import GROUP_FIELD, ROUND_FIELD, load_tables
from annotation.versions import current_annotation
from pipelines.cli.main import app
from pipelines.privacy.acceptance import upper_bound
from pipelines.privacy.builder import read_images

pytestmark = [pytest.mark.labelstudio, pytest.mark.slow]

N_IMAGES = 215  # groups of 100, 100 and 15: samples of 10, 10 and 2
PHONE_LINE = '[{"text": "电话13812345678", "polygon": [[2, 2], [62, 2], [62, 14], [2, 14]], "score": 0.99}]'


def _cli(*args, env=None):
    res = CliRunner().invoke(app, [str(a) for a in args], env=env)
    assert res.exit_code == 0, (res.exit_code, res.output)
    return res


def _json_out(res) -> dict:
    return json.loads(res.stdout[res.stdout.index("{") :])


def _masked_build(tmp_path) -> str:
    """N_IMAGES distinct noisy PNGs (no fast path), each read by the fake OCR as one phone line: all masked."""
    import cv2

    src = tmp_path / "shots"
    src.mkdir()
    rng = np.random.default_rng(20)
    for i in range(N_IMAGES):
        ok, buf = cv2.imencode(".png", rng.integers(0, 255, (24, 72, 3), dtype=np.uint8))
        (src / f"s{i:03d}.png").write_bytes(buf.tobytes())
    out = tmp_path / "masked"
    _cli(
        "mask", "--in", src, "--out", out, "--set", "engine.name=fake", "--set", f"engine.default={PHONE_LINE}", "--workers", "1", "--quiet"
    )
    return str(out)


def _mask_manual(masked, manual, acc_file, out):
    """`mmdial mask-manual --acceptance` (its result, which may be a refusal)."""
    args = ["mask-manual", "--in", masked, "--manual", manual / "privacy_manual.jsonl", "--acceptance", acc_file, "--out", out, "--quiet"]
    return CliRunner().invoke(app, [str(a) for a in args])


def _answer(client, project_id: int, residual: set[str]) -> int:
    """Answer every open task: a box over residual data for the ids in `residual`, clean otherwise."""
    uid = client.create_user("privacy-reviewer@example.org")
    n = 0
    for t in client.list_tasks(project_id):
        d = t["data"]
        if current_annotation(t) is not None:
            continue
        if d["image_id"] in residual:
            result = [
                R.rectangle("b1", "box", "image", 60.0, 10.0, 30.0, 40.0, "phone", d["width"], d["height"]),
                R.choices("verdict", "image", [BOXED]),
            ]
        else:
            result = [R.choices("verdict", "image", [CLEAN])]
        client.create_annotation(t["id"], result, lead_time=3.0, completed_by=uid)
        n += 1
    return n


def test_masked_images_sampled_reviewed_requeued_and_estimated(ls_server, ls_client, project_name, tmp_path):
    env = {"MMDIAL_LS_DATA_DIR": str(ls_server.data_dir), "MMDIAL_LS_TOKEN": None, "MMDIAL_LS_URL": None}
    masked = _masked_build(tmp_path)
    ids = acceptance.masked_ids(load_tables(masked))
    assert len(ids) == N_IMAGES
    groups = acceptance.groups_of(ids, 100)
    assert [len(g) for g in groups.values()] == [100, 100, 15]

    # sample: the seeded qc draw of each group, pushed as round-1 privacy_check tasks of that group
    pushed = _json_out(
        _cli("annotate", "push", "privacy_check", "--from", masked, "--project", project_name, "--sample-masked", "--seed", 3, env=env)
    )
    assert (pushed["images"], pushed["groups"], pushed["sampled"], pushed["created"]) == (N_IMAGES, 3, 22, 22)
    assert pushed["sample_per_group"] == {"0": 10, "1": 10, "2": 2}
    info = open_project(ls_client, project_name)
    tasks = ls_client.list_tasks(info.id)
    on_server = {(int(t["data"][GROUP_FIELD]), t["data"]["image_id"]) for t in tasks}
    assert on_server == {(g, i) for g, members in groups.items() for i in qc.draw(members, 3, g, 1)}
    assert all(int(t["data"][ROUND_FIELD]) == 1 for t in tasks)
    # repeating the push creates nothing; another seed on the same project keeps the project's draw
    again = _json_out(
        _cli("annotate", "push", "privacy_check", "--from", masked, "--project", project_name, "--sample-masked", "--seed", 9, env=env)
    )
    assert again["created"] == 0 and again["seed"] == 3
    # the project samples this build only; its sample is drawn by the push, not by `qc sample`
    fewer = tmp_path / "fewer" / "images"
    fewer.mkdir(parents=True)
    table = load_tables(masked)["images"]
    pq.write_table(table.slice(1), fewer / "images-shared-00000-of-00001.parquet")
    res = CliRunner().invoke(
        app, ["annotate", "push", "privacy_check", "--from", str(fewer.parent), "--project", project_name, "--sample-masked"], env=env
    )
    assert res.exit_code == 2 and f"{N_IMAGES - 1} auto-masked image(s) that are not the {N_IMAGES}" in res.stderr
    res = CliRunner().invoke(app, ["annotate", "qc", "sample", "--project", project_name], env=env)
    assert res.exit_code == 2 and "drawn by `push privacy_check --sample-masked`" in res.stderr

    # review: one sampled image of group 1 still shows personal data
    sample1 = sorted(t["data"]["image_id"] for t in tasks if int(t["data"][GROUP_FIELD]) == 1)
    assert _answer(ls_client, info.id, {sample1[4]}) == 22
    rep = acceptance.report(ls_client, project_name)
    status = {g["group"]: (g["status"], g["qc"], g["sample"], g["failed"]) for g in rep["groups"]}
    assert status == {0: ("pass", "pass", 10, 0), 1: ("fail", "fail: to requeue", 10, 1), 2: ("pass", "pass", 2, 0)}
    assert (rep["estimate"]["sampled"], rep["estimate"]["failed"]) == (22, 1)
    assert rep["estimate"]["upper_bound_95"] == pytest.approx(upper_bound(1, 22), abs=1e-6)

    # the estimate cannot be published while a failed group is not reviewed in full
    acc_file = tmp_path / "acceptance.json"
    _cli("annotate", "qc", "report", "--project", project_name, "--json", acc_file, env=env)
    manual = tmp_path / "pull"
    _cli("annotate", "pull", "--project", project_name, "--out", manual, env=env)
    early = _mask_manual(masked, manual, acc_file, tmp_path / "early")
    assert early.exit_code == 2 and "not reviewed in full" in early.stderr and not os.path.exists(tmp_path / "early" / "manifest.json")

    # requeue: every image of group 1 is now a task; the 90 not sampled wait for review as round 2
    req = _json_out(_cli("annotate", "qc", "requeue", "--project", project_name, "--from", masked, env=env))
    assert req["requeued"] == {"1": {"images": 100, "tasks": 100, "to_review": 90}} and req["created"] == 90
    tasks = ls_client.list_tasks(info.id)
    g1 = [t for t in tasks if int(t["data"][GROUP_FIELD]) == 1]
    assert {t["data"]["image_id"] for t in g1} == set(groups[1])
    queued = [t for t in g1 if current_annotation(t) is None]
    assert len(queued) == 90 and all(int(t["data"][ROUND_FIELD]) == 2 for t in queued)
    assert {int(t["data"][GROUP_FIELD]) for t in tasks} == {0, 1, 2} and len(tasks) == 22 + 90  # passed groups untouched
    assert _json_out(_cli("annotate", "qc", "requeue", "--project", project_name, "--from", masked, env=env))["created"] == 0
    assert [g["qc"] for g in acceptance.report(ls_client, project_name)["groups"]] == ["pass", "fail: in review", "pass"]
    st = project_status(ls_client, project_name)
    assert (st["total"], st["done"]) == (112, 22)
    assert [(g["tasks"], g["done"], g["round"], g["qc"]) for g in st["groups"]] == [
        (10, 10, 1, "pass"),
        (100, 10, 2, "fail: in review"),
        (2, 2, 1, "pass"),
    ]

    # the full review finds one more; the sample's estimate stays the sample's (22 sampled, 1 failed)
    unsampled = sorted(set(groups[1]) - set(sample1))
    assert _answer(ls_client, info.id, {unsampled[0]}) == 90
    _cli("annotate", "qc", "report", "--project", project_name, "--json", acc_file, env=env)
    rep = json.loads(acc_file.read_text())
    g1_rep = rep["groups"][1]
    assert (g1_rep["qc"], g1_rep["reviewed_in_full"], g1_rep["residual_found"]) == ("reviewed in full", True, 2)

    # final images: the boxes applied, the estimate in the manifest and the card
    _cli("annotate", "pull", "--project", project_name, "--out", manual, env=env)
    lines = [json.loads(x) for x in (manual / "privacy_manual.jsonl").read_text().splitlines()]
    assert len(lines) == 112 and sorted(x["image_id"] for x in lines if x["status"] == "masked") == sorted([sample1[4], unsampled[0]])
    final = tmp_path / "final"
    published = _mask_manual(masked, manual, acc_file, final)
    assert published.exit_code == 0, published.output
    manifest = json.loads((final / "manifest.json").read_text())
    acc = manifest["privacy"]["acceptance"]
    assert (acc["images"], acc["groups"], acc["failed_groups"], acc["sampled"], acc["failed"], acc["reviewed_in_full"]) == (
        N_IMAGES,
        3,
        1,
        22,
        1,
        100,
    )
    assert acc["residual_rate"] == pytest.approx(1 / 22, abs=1e-6) and acc["upper_bound_95"] == pytest.approx(upper_bound(1, 22), abs=1e-6)
    assert [g["upper_bound_95"] for g in acc["per_group"]] == pytest.approx([1 - 0.05**0.1, upper_bound(1, 10), 1 - 0.05**0.5], abs=1e-6)
    assert manifest["sources"]["side_files"]["acceptance"]["path"] == str(acc_file)
    card = (final / "README.md").read_text()
    assert "Privacy acceptance check of the auto-masked images" in card and f"{100 * acc['upper_bound_95']:.2f}%" in card
    statuses = {r["image_id"]: r["privacy_status"] for r in read_images(str(final)).to_pylist()}
    assert (
        statuses[sample1[4]] == statuses[unsampled[0]] == "manual_masked" and sum(s == "masked" for s in statuses.values()) == N_IMAGES - 2
    )

    # an acceptance report of another build is refused
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**rep, "masked_ids_sha256": "0" * 64}))
    res = _mask_manual(masked, manual, other, tmp_path / "f2")
    assert res.exit_code == 2 and "another build" in res.stderr
