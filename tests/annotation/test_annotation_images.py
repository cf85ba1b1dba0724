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


def with_big_images(tables: dict, seed: int = 0, min_bytes: int = IMAGE_BYTES) -> dict:
    """The same sessions with every image replaced by a fresh one of >= `min_bytes` (its id the sha256 of its
    bytes, as in a build; `seed` keeps them apart from other tests' images in the session's shared store)."""
    import hashlib

    rows, new_id = tables["images"].to_pylist(), {}
    for i, r in enumerate(rows):
        r["data"] = noisy_jpeg(seed + i, min_bytes)
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
    tables = with_big_images(jddc_tables(3, privacy_status="unchecked"), seed=7_000, min_bytes=1_000)  # never pushed before
    ids = [r["image_id"] for r in tables["images"].to_pylist()]
    assert ids
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


@pytest.fixture
def s3_endpoint(monkeypatch):
    """A local S3-compatible server (moto) on 127.0.0.1 with test credentials; nothing leaves the machine."""
    pytest.importorskip("moto.server", reason="moto[server] (dev extra) runs the local S3 server")
    from moto.server import ThreadedMotoServer

    from annotation.server import free_port

    for k, v in {
        "AWS_ACCESS_KEY_ID": "mmdial-test",
        "AWS_SECRET_ACCESS_KEY": "mmdial-test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(k, v)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="module")
def ls_private(tmp_path_factory, request):
    """A second server allowed to reach an object store on 127.0.0.1 (SSRF protection off: not the shared one)."""
    from annotation.client import LSClient
    from annotation.server import LabelStudioServer, ServerConfig, default_executable, label_studio_fingerprint, migrate_template

    exe = default_executable()
    cache = request.config.cache.mkdir(f"mmdial-label-studio-{label_studio_fingerprint(exe)}")
    cfg = ServerConfig(str(tmp_path_factory.mktemp("ls-private")), template_db=migrate_template(str(cache), exe), private_object_store=True)
    server = LabelStudioServer(cfg)
    server.start()
    yield server, LSClient(server.url, server.token(), state_file=server.projects_file, data_dir=server.data_dir)
    server.stop()


def test_s3_store_serves_images_through_presigned_urls_to_members_only(ls_private, project_name, s3_endpoint):
    import base64

    import boto3

    from annotation.images import S3Store

    ls_server, ls_client = ls_private
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="mmdial-images")
    tables = jddc_tables(3)
    sizes = {r["image_id"]: len(r["data"]) for r in tables["images"].to_pylist()}
    store = S3Store("s3://mmdial-images/run-1", endpoint_url=s3_endpoint, region="us-east-1")
    rep = push(ls_client, "summary", tables, project_name, image_store=store)
    assert rep.created == 3 and rep.images_published == len(sizes)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="mmdial-images")["Contents"]}
    assert {k.rsplit("/", 1)[1].split(".")[0] for k in keys} == set(sizes)  # the images, by id, and nothing else
    # the task API hands the member a proxy URL of Label Studio for each s3:// URI, never the bucket's address
    tasks = ls_client.list_tasks(open_project(ls_client, project_name).id)
    proxied = [(t, u) for t in tasks for u in t["data"]["images"]]
    assert proxied and all(u.startswith(f"/tasks/{t['id']}/resolve/?fileuri=") for t, u in proxied), proxied[0]

    member = WebAnnotator(ls_server.url, ls_server.token(), f"s3-{uuid.uuid4().hex[:6]}@example.org")
    anonymous = httpx.Client(base_url=ls_server.url, follow_redirects=False, timeout=60)
    for _t, resolve in proxied:
        uri = base64.urlsafe_b64decode(resolve.split("fileuri=", 1)[1]).decode()
        assert uri.startswith("s3://mmdial-images/run-1/images/")
        served = member.http.get(resolve)  # redirected to a presigned URL of the bucket
        image_id = uri.rsplit("/", 1)[1].split(".")[0]
        assert served.status_code == 200 and len(served.content) == sizes[image_id], served.status_code
        assert "X-Amz-Signature=" in str(served.url) or any(
            "X-Amz-Signature=" in str(r.headers.get("location", "")) for r in served.history
        )
        refused = anonymous.get(resolve)
        assert refused.status_code in (302, 401, 403, 404) and "X-Amz-Signature" not in refused.headers.get("location", "")


def test_a_push_of_images_without_a_store_fails_before_creating_anything(ls_server, project_name, monkeypatch):
    from annotation.client import LSClient

    monkeypatch.delenv("MMDIAL_LS_IMAGE_STORE", raising=False)
    remote = LSClient(ls_server.url, ls_server.token(), state_file=ls_server.projects_file)  # --url: no data dir here
    with pytest.raises(SyncError, match=r"^no image store for 3 image\(s\): .*MMDIAL_LS_IMAGE_STORE"):
        push(remote, "summary", jddc_tables(2), project_name)
    assert all(p["title"] != project_name for p in remote.projects())
