"""Builds into a real S3-compatible server (issue #21 item 3): moto's server mode on 127.0.0.1,
started here, reached through Beam's own S3 filesystem (`--s3_endpoint_url`), fully offline.

What is held: a build publishes whole and readers resolve it through `OUT/CURRENT`; the commit is
one write of the pointer object (a reader polling it never finds it missing); a kill -9 right
before or right after the commit leaves one whole build; a second build into the same output is
refused while the first holds the lock; a lock takeover cannot destroy the running build (the
old holder neither commits nor cleans up; the new one starts a fresh snapshot).

Each build talks HTTP to the server for every object, so these are slow tests (`make test` runs
them)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from pipelines.mmd.builder import MMDBuilder
from pipelines.mmd.generator import GeneratorConfig, generate
from tests.test_build_integrity import wait_until_stopped

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
BUCKET = "mmdial-test"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3():
    """A moto S3 server on 127.0.0.1 with one bucket; yields the Beam options that reach it."""
    import boto3  # the dev extra (apache-beam[aws], moto[server]): never skipped, so CI runs this suite

    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {**os.environ, **CREDENTIALS}
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(endpoint, timeout=1)
                break
            time.sleep(0.1)
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **_keys())
        client.create_bucket(Bucket=BUCKET)
        args = [
            f"--s3_endpoint_url={endpoint}",
            "--s3_region_name=us-east-1",
            f"--s3_access_key_id={CREDENTIALS['AWS_ACCESS_KEY_ID']}",
            f"--s3_secret_access_key={CREDENTIALS['AWS_SECRET_ACCESS_KEY']}",
        ]
        from apache_beam.io.filesystems import FileSystems
        from apache_beam.options.pipeline_options import PipelineOptions

        FileSystems.set_options(PipelineOptions(args))  # this process reads the builds back through Beam too
        yield {"client": client, "args": args, "env": env}
    finally:
        server.terminate()
        server.wait(timeout=30)


def _keys() -> dict:
    return {"aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"]}


def corpus(path: Path, seed: int) -> Path:
    generate(GeneratorConfig(out=str(path), dialogs=6, seed=seed, images=False, states_fraction=0.0))
    return path


def in_process_build(raw: Path, out: str, s3: dict) -> dict:
    from pipelines.core.engine import BuildOptions, run_build

    return run_build(MMDBuilder(raw=str(raw)), BuildOptions(out=out, workers=1, progress=False, beam_args=list(s3["args"])))


def cli_build(raw: Path, out: str, s3: dict, fault: str | None = None, popen: bool = False):
    env = {**s3["env"], "PYTHONPATH": str(REPO), "MMDIAL_FAULT": fault or ""}
    cmd = [sys.executable, "-m", "pipelines.cli.main", "build", "mmd", "--raw", str(raw), "--out", out, "--quiet", "--workers", "1"]
    cmd += s3["args"]
    if popen:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO, timeout=600)


def current(s3: dict, out: str) -> str | None:
    key = out.split(f"s3://{BUCKET}/", 1)[1] + "/CURRENT"
    try:
        return s3["client"].get_object(Bucket=BUCKET, Key=key)["Body"].read().decode().strip()
    except s3["client"].exceptions.NoSuchKey:
        return None


def dialog_ids(out: str) -> list[str]:
    from pipelines.core.parquet import read_table

    return sorted(read_table(out, "dialogs", columns=["dialog_id"]).column("dialog_id").to_pylist())


def local_ids(raw: Path) -> list[str]:
    return sorted(p.stem for p in (raw / "dialogs").rglob("*.json"))


def test_builds_publish_whole_and_the_pointer_is_never_missing_during_a_publish(s3, tmp_path):
    a, b = corpus(tmp_path / "a", 1), corpus(tmp_path / "b", 2)
    out = f"s3://{BUCKET}/publish"
    m = in_process_build(a, out, s3)
    assert m["status"] == "ok" and dialog_ids(out) == local_ids(a)
    first = current(s3, out)
    seen, stop = [], threading.Event()

    def poll():
        while not stop.is_set():
            seen.append(current(s3, out))

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        m2 = in_process_build(b, out, s3)
    finally:
        stop.set()
        reader.join()
    assert m2["status"] == "ok" and dialog_ids(out) == local_ids(b)
    assert seen and None not in seen, "a reader found no CURRENT during the commit"
    assert set(seen) <= {first, current(s3, out)}
    from pipelines.core.manifest import read_manifest

    manifest = read_manifest(out)
    assert manifest["tables"]["dialogs"] and manifest["status"] == "ok"


@pytest.mark.parametrize("point", ["manifest_written", "committed"])
def test_a_kill_at_the_commit_leaves_one_whole_build_and_the_rerun_finishes(s3, tmp_path, point):
    a, b = corpus(tmp_path / "a", 3), corpus(tmp_path / "b", 4)
    out = f"s3://{BUCKET}/kill-{point}"
    assert cli_build(a, out, s3).returncode == 0
    res = cli_build(b, out, s3, fault=point)
    assert res.returncode == -9, res.stderr
    # before the commit: the old build; right after it: the new one; whole either way
    assert dialog_ids(out) == (local_ids(a) if point == "manifest_written" else local_ids(b))
    res = cli_build(b, out, s3)
    assert res.returncode == 0, res.stderr
    assert dialog_ids(out) == local_ids(b)


def test_a_second_build_into_the_same_output_is_refused_while_the_first_holds_the_lock(s3, tmp_path):
    a = corpus(tmp_path / "a", 5)
    out = f"s3://{BUCKET}/concurrent"
    first = cli_build(a, out, s3, fault="stop:planned", popen=True)
    try:
        wait_until_stopped(first, 120)
        second = cli_build(a, out, s3)
    finally:
        first.send_signal(signal.SIGCONT)
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    assert second.returncode == 2 and "being built by another run" in second.stderr and f"pid {first.pid}" in second.stderr
    assert dialog_ids(out) == local_ids(a)


def test_a_lock_takeover_cannot_destroy_a_running_build(s3, tmp_path, monkeypatch):
    """Run A holds the lock and writes its snapshot, then stalls past the stale limit; run B takes
    the lock over and publishes. A's snapshot is not reused or deleted by B, and A, finding
    another token in the lock, neither commits nor deletes anything (B's build stays published)."""
    from pipelines.core import io, lock, publish

    monkeypatch.setattr(lock, "SETTLE_S", 0.1)
    a, b = corpus(tmp_path / "a", 6), corpus(tmp_path / "b", 7)
    out = f"s3://{BUCKET}/takeover"
    store = publish.store_for(out)
    in_process_build(a, out, s3)  # a published build, and the filesystem options set
    with lock.build_lock(store.root, out, "run A") as held:
        stage_a = store.staging()
        io.write_bytes_atomic(io.join(stage_a, "_shards", "in-progress"), b"A is writing")
        stale = {**held, "heartbeat": time.time() - lock.STALE_S - 10}  # A's heartbeat stalled
        io.write_json_atomic(io.join(store.root, lock.LOCK_NAME), stale)
        m = in_process_build(b, out, s3)  # B takes over
        assert m["status"] == "ok" and dialog_ids(out) == local_ids(b)
        assert io.exists(io.join(stage_a, "_shards", "in-progress")), "B deleted or reused A's snapshot"
        assert posixpath_name(m["run"]["snapshot"]) != posixpath_name(stage_a)
        assert not lock.still_held(store.root, held)  # A knows it lost the lock: it must not commit
    # leaving, A released nothing that is not its own: B's build stays published and whole
    assert current(s3, out) == posixpath_name(m["run"]["snapshot"]) and dialog_ids(out) == local_ids(b)
    assert not io.exists(io.join(store.root, lock.LOCK_NAME))


def posixpath_name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]
