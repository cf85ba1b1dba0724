"""Build integrity under faults (issue #10, #17): locks, whole-build publish, kill -9 at every
point, content fingerprints, resume after deleted files and changed options, failed builds.

Small generated MMD corpora; the subprocess kill tests are marked slow."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pipelines.cli.main import app
from pipelines.core import publish
from pipelines.core.lock import build_lock
from pipelines.core.manifest import content_view, read_manifest
from pipelines.core.parquet import read_table
from pipelines.mmd.builder import MMDBuilder
from pipelines.mmd.generator import GeneratorConfig, generate
from tests.conftest import build

REPO = Path(__file__).resolve().parents[1]
SMALL_SHARDS = 24_000  # bytes per shard: several shards from a 40-dialog corpus


def make_corpus(path: Path, dialogs: int = 40, seed: int = 5) -> Path:
    generate(GeneratorConfig(out=str(path), dialogs=dialogs, seed=seed, states_fraction=0.3))
    return path


def mmd(raw: Path, **kw) -> MMDBuilder:
    return MMDBuilder(raw=str(raw), states_path=str(raw / "states.jsonl"), **kw)


def parquet_bytes(out: Path) -> dict[str, bytes]:
    """Every Parquet file a reader globbing the output sees, by path below it."""
    return {os.path.relpath(p, out): open(p, "rb").read() for p in sorted(glob.glob(f"{out}/*/*.parquet"))}


def assert_whole(out: Path) -> dict:
    """What a reader that globs `out` sees is exactly one complete build: its manifest's files,
    with the manifest's row counts, and nothing else."""
    m = json.loads((out / "manifest.json").read_text())
    assert m["status"] == "ok"
    listed = {f["path"] for splits in m["tables"].values() for s in splits.values() for f in s["files"]}
    assert set(parquet_bytes(out)) == listed
    for table, splits in m["tables"].items():
        rows = sum(pq.ParquetFile(out / f["path"]).metadata.num_rows for s in splits.values() for f in s["files"])
        assert rows == sum(s["rows"] for s in splits.values()), table
    return m


def cli_build(raw: Path, out: Path, *extra: str, fault: str | None = None, timeout: int = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("MMDIAL_FAULT", None)
    if fault:
        env["MMDIAL_FAULT"] = fault
    cmd = [sys.executable, "-m", "pipelines.cli.main", "build", "mmd", "--raw", str(raw), "--states", str(raw / "states.jsonl")]
    cmd += ["--out", str(out), "--quiet", "--workers", "1", "--shard-mib", "1", *extra]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO)


def wait_until_stopped(proc: subprocess.Popen, seconds: float) -> None:
    """Wait until `proc` has stopped itself at its fault point (state T in /proc); it must still live."""
    for _ in range(int(seconds / 0.05)):
        if proc.poll() is not None or Path(f"/proc/{proc.pid}/stat").read_text().split(") ", 1)[1].startswith("T"):
            break
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()[1]


# -- lock ---------------------------------------------------------------------------------------
def test_a_second_build_into_the_same_output_is_refused_naming_the_first(tmp_path):
    raw = make_corpus(tmp_path / "raw", dialogs=10)
    out = tmp_path / "out"
    store = publish.store_for(str(out))
    with build_lock(store.root, str(out), "mmdial build mmd (the first run)"):
        res = CliRunner().invoke(app, ["build", "mmd", "--raw", str(raw), "--out", str(out), "--quiet", "--workers", "1"])
    assert res.exit_code == 2
    line = res.output.strip()
    assert "\n" not in line and "being built by another run" in line
    assert f"pid {os.getpid()}" in line and "started 20" in line and "the first run" in line
    assert not out.exists()  # nothing was written for the refused run
    # the lock is gone with its holder: the same build now runs
    res = CliRunner().invoke(app, ["build", "mmd", "--raw", str(raw), "--out", str(out), "--quiet", "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert_whole(out)


@pytest.mark.slow
def test_concurrent_cli_builds_one_refused_and_a_killed_holder_leaves_no_stale_lock(tmp_path):
    raw = make_corpus(tmp_path / "raw", dialogs=30)
    out = tmp_path / "out"
    # a killed run (kill -9 after planning, lock held) does not block the next run
    res = cli_build(raw, out, fault="planned")
    assert res.returncode == -9
    env = {**os.environ, "PYTHONPATH": str(REPO), "MMDIAL_FAULT": ""}
    cmd = [sys.executable, "-m", "pipelines.cli.main", "build", "mmd", "--raw", str(raw), "--out", str(out), "--quiet", "--workers", "1"]
    # the first run stops itself after planning, holding the lock, so the second meets it for sure
    first = subprocess.Popen(
        cmd, env={**env, "MMDIAL_FAULT": "stop:planned"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO
    )
    try:
        wait_until_stopped(first, 60)
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO, timeout=180)
    finally:
        first.send_signal(signal.SIGCONT)
    first_out, first_err = first.communicate(timeout=180)
    assert first.returncode == 0, first_err
    assert second.returncode == 2 and "being built by another run" in second.stderr and f"pid {first.pid}" in second.stderr
    assert_whole(out)


# -- publish: kill -9 at every point ----------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("point", ["planned", "shard_written", "shards_done", "manifest_written", "committed"])
def test_kill_at_any_point_leaves_a_whole_build_and_resume_is_byte_identical(tmp_path, point):
    raw = make_corpus(tmp_path / "raw", dialogs=40)
    out = tmp_path / "out"
    assert cli_build(raw, out).returncode == 0
    before = assert_whole(out)
    old = parquet_bytes(out)
    # a different corpus (more dialogs: another shard count), killed at `point`
    raw2 = make_corpus(tmp_path / "raw2", dialogs=70, seed=6)
    res = cli_build(raw2, out, fault=point)
    assert res.returncode == -9, res.stderr
    now = assert_whole(out)  # a reader sees one complete build: the old one, or (committed) the new one
    if point == "committed":
        assert now["tables"]["dialogs"] != before["tables"]["dialogs"]
    else:
        assert parquet_bytes(out) == old and now == before
    # the re-run finishes the interrupted snapshot and equals a clean build byte for byte
    res = cli_build(raw2, out)
    assert res.returncode == 0, res.stderr
    clean = tmp_path / "clean"
    assert cli_build(raw2, clean).returncode == 0
    assert parquet_bytes(out) == parquet_bytes(clean)
    assert content_view(assert_whole(out)) == content_view(assert_whole(clean))
    # at most the previous snapshot is kept besides the current one
    assert len(publish.store_for(str(out)).build_ids()) <= 2


@pytest.mark.slow
def test_files_of_another_layout_never_reach_readers(tmp_path):
    """A shard count change with stale files in the interrupted snapshot (issue #10 item 2)."""
    raw = make_corpus(tmp_path / "raw", dialogs=40)
    out = tmp_path / "out"
    build(mmd(raw), out, shard_bytes=SMALL_SHARDS)
    m1 = assert_whole(out)
    store = publish.store_for(str(out))
    stage = Path(store.staging())  # an interrupted run's snapshot with files of a 20-shard layout
    (stage / "dialogs").mkdir(parents=True)
    stray = stage / "dialogs" / "dialogs-train-00006-of-00020.parquet"
    stray.write_bytes((out / m1["tables"]["dialogs"]["train"]["files"][0]["path"]).read_bytes())
    m2 = build(mmd(raw), out, shard_bytes=SMALL_SHARDS * 2)
    assert m2["num_shards"] != m1["num_shards"]
    assert_whole(out)
    assert not (out / "dialogs" / stray.name).exists()
    assert read_table(str(out), "dialogs").num_rows == sum(s["rows"] for s in m1["tables"]["dialogs"].values())


def test_an_existing_folder_that_is_not_a_build_is_refused(tmp_path):
    raw = make_corpus(tmp_path / "raw", dialogs=5)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    res = CliRunner().invoke(app, ["build", "mmd", "--raw", str(raw), "--out", str(tmp_path / "mine"), "--quiet", "--workers", "1"])
    assert res.exit_code == 2 and "not an mmdial build" in res.output
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    (tmp_path / "afile").write_text("x")
    res = CliRunner().invoke(app, ["build", "mmd", "--raw", str(raw), "--out", str(tmp_path / "afile" / "o"), "--quiet"])
    assert res.exit_code == 2 and res.output.startswith("error: --out") and "\n" not in res.output.strip()


# -- failed builds ------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_build_above_the_dead_ratio_does_not_replace_the_good_one(tmp_path):
    raw = make_corpus(tmp_path / "raw", dialogs=30)
    out = tmp_path / "out"
    runner = CliRunner()
    assert runner.invoke(app, ["build", "mmd", "--raw", str(raw), "--out", str(out), "--quiet", "--workers", "1"]).exit_code == 0
    good = assert_whole(out)
    for i in range(5):
        (raw / "dialogs" / "train" / f"broken_{i}.json").write_text("[{not json")
    res = runner.invoke(
        app, ["build", "mmd", "--raw", str(raw), "--out", str(out), "--quiet", "--workers", "1", "--max-dead-ratio", "0.01"]
    )
    assert res.exit_code == 1
    assert "dead-letter ratio" in res.output and "previous build stays published" in res.output
    assert assert_whole(out) == good  # readers still see the good build
    failed = json.loads(
        (
            Path(publish.store_for(str(out)).root)
            / json.loads((Path(publish.store_for(str(out)).root) / "STAGING").read_text())["id"]
            / "manifest.json"
        ).read_text()
    )
    assert failed["status"] == "failed" and any("dead-letter ratio" in f for f in failed["failures"])
    # raising the threshold publishes that same snapshot without rebuilding a shard
    res = runner.invoke(app, ["build", "mmd", "--raw", str(raw), "--out", str(out), "--quiet", "--workers", "1", "--max-dead-ratio", "0.5"])
    assert res.exit_code == 0
    m = assert_whole(out)
    assert m["run"]["shards_built"] == 0 and m["dead_letters"]["by_stage"]["parse"] == 5


# -- fingerprints over content ------------------------------------------------------------------
@pytest.mark.slow
def test_a_content_edit_that_keeps_size_and_mtime_rebuilds_its_shard_only(tmp_path):
    raw = make_corpus(tmp_path / "raw", dialogs=40)
    out = tmp_path / "out"
    m1 = build(mmd(raw), out, shard_bytes=SMALL_SHARDS)
    assert m1["num_shards"] > 2
    victim = sorted((raw / "dialogs" / "train").glob("*.json"))[0]
    st = victim.stat()
    text = victim.read_text()
    edited = text.replace("Thanks, bye!", "Thanks, bey!", 1)
    assert edited != text and len(edited) == len(text)
    victim.write_text(edited)
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same mtime
    m2 = build(mmd(raw), out, shard_bytes=SMALL_SHARDS)
    assert 1 <= m2["run"]["shards_built"] < m2["num_shards"]
    assert any(t["text"] == "Thanks, bey!" for t in read_table(str(out), "turns").to_pylist())
    clean = tmp_path / "clean"
    build(mmd(raw), clean, shard_bytes=SMALL_SHARDS)
    assert parquet_bytes(out) == parquet_bytes(clean)


@pytest.mark.slow
def test_side_file_edits_rebuild_every_shard(tmp_path):
    """states and url2img are read by every shard: same-length edits must not reuse a shard."""
    raw = make_corpus(tmp_path / "raw", dialogs=30)
    out = tmp_path / "out"
    m1 = build(mmd(raw), out, shard_bytes=SMALL_SHARDS)
    resolved = m1["stats"]["turn_images_resolved"]
    assert resolved > 0
    url2img = raw / "url2img.txt"
    st = url2img.stat()
    url2img.write_text(url2img.read_text().replace(".jpg\n", ".jpx\n"))  # same length: no file resolves
    os.utime(url2img, ns=(st.st_atime_ns, st.st_mtime_ns))
    m2 = build(mmd(raw), out, shard_bytes=SMALL_SHARDS)
    assert m2["run"]["shards_built"] == m2["num_shards"]
    assert m2["stats"].get("turn_images_resolved", 0) == 0 and m2["stats"]["turn_images_missing"] == resolved
    assert (m2["integrity"]["dangling"], m2["integrity"]["duplicates"]) == ({}, {})


@pytest.mark.slow
def test_a_deleted_output_file_of_a_finished_shard_is_rebuilt(tmp_path):
    raw = make_corpus(tmp_path / "raw", dialogs=40)
    out = tmp_path / "out"
    m1 = build(mmd(raw), out, shard_bytes=SMALL_SHARDS)
    before = parquet_bytes(out)
    victim = out / m1["tables"]["turns"]["train"]["files"][1]["path"]
    victim.unlink()
    m2 = build(mmd(raw), out, shard_bytes=SMALL_SHARDS)
    assert m2["run"]["shards_built"] == 1
    assert parquet_bytes(out) == before


@pytest.mark.slow
def test_a_builder_option_change_rebuilds_every_shard(tmp_path):
    raw = make_corpus(tmp_path / "raw", dialogs=40)
    out = tmp_path / "out"
    build(mmd(raw, context_turns=10), out, shard_bytes=SMALL_SHARDS)
    longest = max(len(r["context"]) for r in read_table(str(out), "rec_samples").to_pylist())
    assert longest > 2
    m = build(mmd(raw, context_turns=2), out, shard_bytes=SMALL_SHARDS)
    assert m["run"]["shards_built"] == m["num_shards"] and m["build_config"]["context_turns"] == 2
    assert max(len(r["context"]) for r in read_table(str(out), "rec_samples").to_pylist()) == 2


# -- reading a build ----------------------------------------------------------------------------
def test_inspect_without_a_build_is_one_line_exit_2(tmp_path):
    res = CliRunner().invoke(app, ["inspect", str(tmp_path)])
    assert res.exit_code == 2 and res.output.startswith("error: no manifest.json") and "\n" not in res.output.strip()


def test_read_manifest_follows_the_published_build(tmp_path):
    raw = make_corpus(tmp_path / "raw", dialogs=8)
    out = tmp_path / "out"
    m = build(mmd(raw), out)
    assert read_manifest(str(out)) == json.loads((out / "manifest.json").read_text()) == m
    assert os.path.islink(out) and publish.store_for(str(out)).current_id() in os.readlink(out)


# -- the DuckDB check over finished builds (tools/check_integrity.py) ----------------------------
def test_the_duckdb_check_finds_dangling_references_and_duplicate_ids(tmp_path):
    import pyarrow as pa

    sys.path.insert(0, str(REPO / "tools"))
    try:
        import check_integrity
    finally:
        sys.path.pop(0)
    raw = make_corpus(tmp_path / "raw", dialogs=8)
    out = tmp_path / "out"
    build(mmd(raw), out)
    assert check_integrity.check(str(out)) == []
    # tamper with a copy: one turn names an image nobody has, one image row is doubled
    bad = tmp_path / "bad"
    import shutil

    shutil.copytree(os.path.realpath(out), bad)
    m = json.loads((bad / "manifest.json").read_text())
    turns_file = bad / m["tables"]["turns"]["train"]["files"][0]["path"]
    t = pq.read_table(turns_file)
    ids = t.column("image_ids").to_pylist()
    ids[0] = ids[0] + ["f" * 64]
    pq.write_table(
        t.set_column(t.schema.get_field_index("image_ids"), "image_ids", pa.array(ids, t.schema.field("image_ids").type)), turns_file
    )
    images_file = bad / m["tables"]["images"]["shared"]["files"][0]["path"]
    im = pq.read_table(images_file)
    pq.write_table(pa.concat_tables([im, im.slice(0, 1)]), images_file)
    problems = check_integrity.check(str(bad))
    assert "1 dangling turns.image_ids -> images.image_id" in problems and "1 duplicate images(image_id)" in problems


def test_the_publish_check_counts_a_dialog_in_two_splits_and_a_dangling_item(tmp_path):
    """The core's own check (pipelines/core/references.py), on hand-written tables."""
    from pipelines.core import references
    from schemas import get

    def write(table: str, split: str, rows: list[dict]) -> dict:
        rel = f"{table}/{table}-{split}-00000-of-00001.parquet"
        (tmp_path / table).mkdir(exist_ok=True)
        pq.write_table(get(table).to_arrow(rows), tmp_path / rel)
        return {"path": rel, "rows": len(rows), "bytes": (tmp_path / rel).stat().st_size}

    dialog = {"dataset": "simmc", "source": "f.json", "num_turns": 1, "domain": None, "meta": None}
    turn = {"dataset": "simmc", "turn_index": 0, "speaker": "user", "text": "hi", "text_templated": None}
    turn.update({"image_refs": [], "image_ids": [], "annotations": None})
    m = {"tables": {}}
    m["tables"]["dialogs"] = {
        s: {"rows": 1, "files": [write("dialogs", s, [{**dialog, "dialog_id": "7", "split": s}])]} for s in ("train", "valid")
    }
    m["tables"]["turns"] = {
        "train": {"rows": 1, "files": [write("turns", "train", [{**turn, "dialog_id": "7", "split": "train", "item_ids": ["s:1"]}])]}
    }
    m["tables"]["products"] = {"shared": {"rows": 0, "files": [write("products", "shared", [])]}}
    result = references.check(str(tmp_path), m)
    assert result["duplicates"] == {"dialogs(dialog_id)": 1}
    assert result["dangling"] == {"turns.item_ids -> products.product_id": 1}
    lines = references.problems(result)
    assert any("duplicate key(s) in dialogs(dialog_id)" in line and "'7'" in line for line in lines)


# -- readers during a publish (issue #21 item 1) --------------------------------------------------
def _table_files(snapshot: Path) -> dict[str, bytes]:
    return {os.path.relpath(p, snapshot): open(p, "rb").read() for p in glob.glob(f"{snapshot}/*/*.parquet")}


@pytest.mark.slow
def test_two_builds_into_one_output_share_a_file_name_only_with_the_same_bytes(tmp_path):
    """File names carry the shard's content token: a reader that lists OUT/table through the link
    and opens the names through it again reads one build, or gets FileNotFoundError."""
    a, b = make_corpus(tmp_path / "a", dialogs=12, seed=1), make_corpus(tmp_path / "b", dialogs=12, seed=2)
    out = tmp_path / "out"
    seen = []
    for raw in (a, b, a):
        build(mmd(raw), out, shard_bytes=SMALL_SHARDS)
        seen.append(_table_files(Path(os.path.realpath(out))))
    first, second, third = seen
    assert first == third  # the same corpus again: the same names and bytes
    shared = set(first) & set(second)
    assert all(first[n] == second[n] for n in shared)
    differing_tables = {n.split("/")[0] for n in set(first) ^ set(second)}
    assert {"turns", "dialogs"} <= differing_tables  # the two corpora really differ in those tables


_READER = r"""
import glob, hashlib, json, os, sys
import pyarrow.parquet as pq
out, want, n, stop = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
known = {tuple(v): k for k, v in want.items()}
seen = {"reads": 0, "whole": {}, "mixed": 0, "retry": 0, "examples": []}
while seen["reads"] < n or not os.path.exists(stop):
    seen["reads"] += 1
    try:
        files = sorted(glob.glob(out + "/turns/*.parquet"))
        rows = sorted(r for f in files for r in zip(*pq.read_table(f, columns=["dialog_id", "turn_index"]).to_pydict().values()))
    except (FileNotFoundError, OSError):
        seen["retry"] += 1
        continue
    key = (len(rows), hashlib.sha256(json.dumps(rows).encode()).hexdigest())
    name = known.get(key)
    if name is None:
        seen["mixed"] += 1
        seen["examples"] = (seen["examples"] + [len(rows)])[:5]
    else:
        seen["whole"][name] = seen["whole"].get(name, 0) + 1
print(json.dumps(seen))
"""


def _turns_key(out: Path) -> list[int]:
    t = read_table(str(out), "turns", columns=["dialog_id", "turn_index"])
    rows = sorted(zip(*t.to_pydict().values()))
    return [len(rows), hashlib.sha256(json.dumps([list(r) for r in rows]).encode()).hexdigest()]


ONE_SHARD = 64 * 2**20  # both corpora in one shard: without content tokens their file names would be the same
PUBLISHES = 16  # link swaps during the reads (with the names of one build for both, several of them mix)


@pytest.mark.slow
def test_a_reader_loop_during_alternating_publishes_never_sees_a_mix(tmp_path):
    """10,000 glob-then-read passes over OUT/turns while two corpora are published into OUT in
    turn: every pass returns exactly one build's rows or raises (retryable); none mixes."""
    a, b = make_corpus(tmp_path / "a", dialogs=40, seed=1), make_corpus(tmp_path / "b", dialogs=40, seed=2)  # train, valid and test files
    out = tmp_path / "out"
    want = {}
    for name, raw in (("b", b), ("a", a)):
        build(mmd(raw), out, shard_bytes=ONE_SHARD)
        want[name] = _turns_key(out)
    assert want["a"] != want["b"]
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, str(out), json.dumps(want), "10000", str(stop)], stdout=subprocess.PIPE, text=True
    )
    publishes = 0
    while publishes < PUBLISHES or reader.poll() is None:
        build(mmd(b if publishes % 2 == 0 else a), out, shard_bytes=ONE_SHARD)
        publishes += 1
        if publishes >= PUBLISHES:
            stop.touch()
    seen = json.loads(reader.stdout.read())
    assert seen["reads"] >= 10_000 and publishes >= PUBLISHES
    assert seen["mixed"] == 0, seen
    assert seen["whole"].get("a", 0) > 0 and seen["whole"].get("b", 0) > 0, seen


# -- phase timings (issue #22) ------------------------------------------------------------------
def test_every_manifest_records_phase_timings_and_inspect_prints_them(tmp_path):
    raw = make_corpus(tmp_path / "raw", dialogs=6)
    out = tmp_path / "out"
    m = build(mmd(raw), out)
    phases = m["run"]["phases"]
    assert list(phases) == ["plan", "shards", "checks", "card", "publish"]
    assert all(p["seconds"] >= 0 and p["cpu_seconds"] >= 0 for p in phases.values())
    assert sum(p["seconds"] for p in phases.values()) <= m["run"]["seconds"] + phases["plan"]["seconds"] + phases["card"]["seconds"] + 5
    assert json.loads((out / "manifest.json").read_text())["run"]["phases"] == phases
    res = CliRunner().invoke(app, ["inspect", str(out), "--rows", "0"])
    text = " ".join(res.output.split())
    assert res.exit_code == 0 and "phases: plan " in text and "· shards " in text and "· publish " in text
