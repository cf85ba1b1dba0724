"""Images by reference against the real server: no image bytes in Label Studio's database, every
referenced image served to a member signed up through the invite link and refused to an anonymous
client, nothing the privacy gate refused is ever written to the image store; and push/pull at a
small scale: paginated listing, a push and a pull killed midway resume without loss or duplicates."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import uuid

import httpx
import numpy as np
import pytest
from annotation_testkit import WebAnnotator, annotate_all, jddc_tables, summary_result

from annotation.images import URL_PREFIX, relpath_of
from annotation.projects import SyncError
from annotation.server import DB_NAME, files_root
from annotation.sync import open_project, pull, push
from annotation.tasks import KEY_FIELD
from schemas import get

pytestmark = [pytest.mark.labelstudio, pytest.mark.slow]
IMAGE_BYTES = 100_000


def noisy_jpeg(seed: int, min_bytes: int = IMAGE_BYTES) -> bytes:
    """A JPEG of at least `min_bytes` (noise does not compress), like a real product photo's size."""
    import cv2

    rng = np.random.default_rng(seed)
    side = 160
    while True:
        ok, buf = cv2.imencode(".jpg", rng.integers(0, 255, (side, side, 3), dtype=np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 92])
        assert ok
        if buf.size >= min_bytes:
            return buf.tobytes()
        side += 32


def with_big_images(tables: dict) -> dict:
    """The same sessions with every image replaced by a >= 100 KB one (its id the sha256 of its bytes, as in a build)."""
    import hashlib

    rows, new_id = tables["images"].to_pylist(), {}
    for i, r in enumerate(rows):
        r["data"] = noisy_jpeg(i)
        new_id[r["image_id"]] = r["image_id"] = hashlib.sha256(r["data"]).hexdigest()
    turns = tables["turns"].to_pylist()
    for t in turns:
        t["image_ids"] = [new_id[i] for i in t["image_ids"]]
    return {"turns": get("turns").to_arrow(turns), "images": get("images").to_arrow(rows)}


def db_bytes(server) -> int:
    """Label Studio's database on disk (the SQLite file and its write-ahead log)."""
    base = server.data_dir / DB_NAME
    return sum(os.path.getsize(p) for p in (base, base.with_name(DB_NAME + "-wal")) if p.exists())


def test_push_stores_no_image_bytes_and_serves_images_to_members_only(ls_server, ls_client, project_name):
    tables = with_big_images(jddc_tables(30))
    sizes = {r["image_id"]: len(r["data"]) for r in tables["images"].to_pylist()}
    assert min(sizes.values()) >= IMAGE_BYTES
    before = db_bytes(ls_server)
    rep = push(ls_client, "summary", tables, project_name)
    grown = db_bytes(ls_server) - before
    assert rep.created == 30 and rep.images_published == len(sizes) == 45
    # the database grows by less than 5 KB per task although each task shows 1-2 images of >= 100 KB
    assert grown / rep.created < 5_000, f"{grown} bytes for {rep.created} tasks"
    tasks = ls_client.list_tasks(open_project(ls_client, project_name).id)
    body = json.dumps([t["data"] for t in tasks])
    assert "data:image" not in body and "base64" not in body
    urls = sorted({u for t in tasks for u in t["data"]["images"]})
    assert len(urls) == len(sizes) and all(u.startswith(URL_PREFIX) for u in urls)

    member = WebAnnotator(ls_server.url, ls_server.token(), f"viewer-{uuid.uuid4().hex[:6]}@example.org")
    anonymous = httpx.Client(base_url=ls_server.url, follow_redirects=False, timeout=60)
    for url in urls:
        image_id = os.path.basename(relpath_of(url)).split(".")[0]
        served = member.http.get(url)
        assert served.status_code == 200 and len(served.content) == sizes[image_id]
        assert served.headers["content-type"].startswith("image/jpeg")
        refused = anonymous.get(url)
        assert refused.status_code in (302, 401, 403, 404) and refused.content[:3] != b"\xff\xd8\xff", refused.status_code
    # nothing outside the image store, even for a member (Label Studio answers 404, or 500 for a path it finds suspicious)
    for escape in ("../label_studio.sqlite3", "../mmdial/token", "/etc/passwd", "../../label_studio.sqlite3"):
        r = member.http.get(URL_PREFIX + escape)
        assert r.status_code != 200 and b"SQLite format" not in r.content and b"root:" not in r.content, escape


def test_images_the_privacy_gate_refuses_never_reach_the_store(ls_server, ls_client, project_name):
    tables = jddc_tables(3, privacy_status="unchecked")
    ids = [r["image_id"] for r in tables["images"].to_pylist()]
    with pytest.raises(SyncError, match="privacy_status unchecked"):
        push(ls_client, "query_rewrite", tables, project_name)
    store = files_root(ls_server.data_dir)
    on_disk = {os.path.basename(f).split(".")[0] for _, _, fs in os.walk(store) for f in fs}
    assert not on_disk & set(ids)


# -- scale: pagination and resumption (benchmarks/bench_annotation.py runs 10,000) --------------
def _push_then_die(url, token, state_file, data_dir, project, n, batch, die_after):
    from annotation.client import LSClient

    client = LSClient(url, token, state_file=state_file, data_dir=data_dir)

    def on_batch(done_batches, _left):
        if done_batches == die_after:
            os.kill(os.getpid(), signal.SIGKILL)  # a kill, not an exception: nothing gets to clean up

    push(client, "summary", jddc_tables(n), project, batch_size=batch, on_batch=on_batch)


def _pull_then_die(url, token, state_file, data_dir, project, out):
    from annotation.client import LSClient

    client = LSClient(url, token, state_file=state_file, data_dir=data_dir)

    def on_stage(stage):
        if stage == "downloaded":
            os.kill(os.getpid(), signal.SIGKILL)

    pull(client, project, out, on_stage=on_stage)


def _child(target, *args) -> int:
    proc = multiprocessing.get_context("spawn").Process(target=target, args=args)
    proc.start()
    proc.join(300)
    return proc.exitcode


def test_push_and_pull_killed_midway_resume_without_loss_or_duplicates(ls_server, ls_client, project_name, tmp_path):
    n, batch = 23, 5
    conn = (ls_client.url, ls_server.token(), str(ls_server.projects_file), str(ls_server.data_dir), project_name)
    assert _child(_push_then_die, *conn, n, batch, 2) == -signal.SIGKILL
    info = open_project(ls_client, project_name)
    assert len(ls_client.list_tasks(info.id)) == 2 * batch  # two batches committed before the kill
    again = push(ls_client, "summary", jddc_tables(n), project_name, batch_size=batch)
    assert (again.created, again.already_there) == (n - 2 * batch, 2 * batch)
    # the listing pages through the project (page size smaller than the project) and sees each task once
    paged = ls_client.list_tasks(info.id, page_size=4)
    assert len(paged) == n and len({t["data"][KEY_FIELD] for t in paged}) == n and len({t["id"] for t in paged}) == n

    annotate_all(ls_client, info.id, summary_result)
    out = str(tmp_path / "pulled")
    assert _child(_pull_then_die, *conn, out) == -signal.SIGKILL
    assert os.path.exists(os.path.join(out, ".pull-state.json"))
    rep = pull(ls_client, project_name, out)
    assert rep.snapshot_reused and (rep.tasks, rep.done, rep.lines, rep.dead) == (n, n, n, 0)
    assert not [f for f in os.listdir(out) if f.startswith(".")]
