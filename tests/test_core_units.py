import pytest

from pipelines.core.builder import WorkUnit
from pipelines.core.context import Reject, ShardContext
from pipelines.core.engine import plan_shards
from pipelines.core.splits import hash_split, normalise_split_name, stable_fraction


def test_hash_split_is_stable_and_follows_ratios():
    ratios = {"train": 0.8, "valid": 0.1, "test": 0.1}
    first = [hash_split(f"s{i}", ratios) for i in range(20000)]
    assert first == [hash_split(f"s{i}", ratios) for i in range(20000)]
    share = first.count("train") / len(first)
    assert 0.78 < share < 0.82
    assert hash_split("s1", ratios, salt="a") in ratios
    assert 0 <= stable_fraction("x") < 1
    with pytest.raises(ValueError):
        hash_split("x", {})
    assert normalise_split_name("dev") == "valid" and normalise_split_name("Test") == "test"


def test_record_commits_only_whole_records():
    ctx = ShardContext("t")
    with ctx.record("parse", "f.json", "1", raw="ok"):
        ctx.emit("turns", {"a": 1})
    with ctx.record("parse", "f.json", "2", raw="x" * 2000):
        ctx.emit("turns", {"a": 2})
        raise ValueError("boom")
    with ctx.record("parse", "f.json", "3", raw=b"bytes") as rec:
        ctx.emit("turns", {"a": 3})
        rec.filter_out()
    with ctx.record("parse", "f.json", "4"):
        raise Reject("unknown speaker 'robot'")
    assert [r["a"] for r in ctx.rows["turns"]] == [1]
    assert ctx.stages["parse"].as_dict() == {"in": 4, "out": 1, "dead": 2, "filtered": 1}
    reasons = [d["reason"] for d in ctx.dead_letters]
    assert reasons == ["ValueError: boom", "unknown speaker 'robot'"]
    assert len(ctx.dead_letters[0]["excerpt"]) == 500
    assert ctx.dead_letters[0]["source"] == "f.json" and ctx.dead_letters[0]["locator"] == "2"


def test_nested_record_rows_follow_parent():
    ctx = ShardContext("t")
    with ctx.record("dialog", "f", "d1"):
        with ctx.record("sample", "f", "d1:1"):
            ctx.emit("rec_samples", {"i": 1})
        with ctx.record("sample", "f", "d1:2"):
            raise Reject("scene missing")
        ctx.emit("turns", {"i": 0})
    with ctx.record("dialog", "f", "d2"):
        with ctx.record("sample", "f", "d2:1"):
            ctx.emit("rec_samples", {"i": 2})
        raise Reject("bad dialog")
    assert [r["i"] for r in ctx.rows["rec_samples"]] == [1]
    assert ctx.stages["sample"].as_dict() == {"in": 3, "out": 2, "dead": 1, "filtered": 0}
    assert ctx.stages["dialog"].as_dict() == {"in": 2, "out": 1, "dead": 1, "filtered": 0}


def test_plan_shards_balances_and_is_deterministic():
    units = [WorkUnit("dialog", f"/d/{i:04d}.json", size=100 + (i % 7) * 10, split=["train", "test"][i % 2]) for i in range(1000)]
    a = plan_shards(units, shard_bytes=10_000)
    b = plan_shards(list(reversed(units)), shard_bytes=10_000)
    assert a == b
    assert len(a) == 13
    sizes = [sum(u.size for u in s) for s in a]
    assert max(sizes) - min(sizes) < 400
    assert sorted(u for s in a for u in s) == sorted(units)
    assert plan_shards(units[:3], shard_bytes=10**9) == [sorted(units[:3], key=lambda u: (u.split, u.kind, u.path, u.start))]


class _TinyBuilder:
    """A builder whose record 'd3' emits a turn_index that is not an integer."""

    from pipelines.core.builder import Builder as _B

    dataset = "tiny"
    splits = ("train",)
    dialog_tables = ("dialogs", "turns")
    shared_tables = ()
    layout = _B.layout

    def table_stats(self, table, rows):
        return {"rows": len(rows)} if table == "turns" else {}

    def process(self, unit, ctx):
        for i in range(12):
            did = f"d{i}"
            with ctx.record("parse", unit.path, did, raw=did, split="train"):
                ctx.emit("dialogs", {"dialog_id": did, "split": "train", "num_turns": 1})
                ctx.emit("turns", {"dialog_id": did, "split": "train", "turn_index": "x" if i == 3 else 0, "speaker": "user", "text": "hi"})


def test_schema_errors_demote_the_whole_record_across_batches(tmp_path):
    import pyarrow.parquet as pq

    from pipelines.core import engine

    builder = _TinyBuilder()
    original = engine.ShardContext

    def small_batches(*a, **kw):  # force several batches, so the bad record's dialog row is converted early
        return original(*a, **{**kw, "batch_rows": 2})

    engine.ShardContext = small_batches
    try:
        marker = engine.build_shard(builder, str(tmp_path), 0, 1, [WorkUnit("x", "src.json")], "fp")
    finally:
        engine.ShardContext = original
    dialogs = pq.read_table(tmp_path / marker["files"]["dialogs"]["train"]["path"]).column("dialog_id").to_pylist()
    turns = pq.read_table(tmp_path / marker["files"]["turns"]["train"]["path"]).column("dialog_id").to_pylist()
    assert "d3" not in dialogs and "d3" not in turns and len(dialogs) == len(turns) == 11
    assert marker["stages"]["parse"] == {"in": 12, "out": 11, "dead": 1, "filtered": 0}
    dead = pq.read_table(tmp_path / marker["files"]["dead_letters"]["shared"]["path"]).to_pylist()
    assert [d["locator"] for d in dead] == ["d3"] and dead[0]["reason"].startswith("schema turns:")
    assert marker["table_stats"]["turns"] == {"rows": 12}  # counted as emitted, before the schema check


def test_a_held_lock_refuses_a_second_holder_naming_the_output_and_the_first_command(tmp_path):
    """flock is per open file: a second open in the same process meets the first holder, so the
    refusal (what a user sees when two builds race) is checked without a second process."""
    import pytest

    from pipelines.core.lock import BuildLocked, build_lock

    root = str(tmp_path / ".out.builds")
    with build_lock(root, "/data/out", "mmdial build mmd --raw r --out /data/out") as info:
        assert info["command"] == "mmdial build mmd --raw r --out /data/out" and info["pid"] > 0
        with pytest.raises(BuildLocked) as exc, build_lock(root, "/data/out", "second"):
            pass
        msg = str(exc.value)
        assert msg.startswith("--out /data/out is being built by another run") and "(mmdial build mmd --raw r --out /data/out)" in msg
    with build_lock(root, "/data/out", "third") as info:  # released: the next run takes it
        assert info["command"] == "third"


def test_a_lock_holder_on_this_host_whose_process_is_gone_is_stale_at_once():
    import os
    import socket
    import subprocess
    import sys

    from pipelines.core.lock import _dead_here

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # reaped: its pid names no process now
    here = socket.gethostname()
    assert _dead_here({"host": here, "pid": gone.pid}) is True
    assert _dead_here({"host": here, "pid": os.getpid()}) is False  # alive
    assert _dead_here({"host": here + "-other", "pid": gone.pid}) is False  # another host cannot be asked
    assert _dead_here({"host": here, "pid": "1"}) is False  # not a pid


def test_a_lock_description_without_a_command_has_nothing_after_the_start():
    from pipelines.core.lock import describe

    assert describe({"pid": 7, "host": "h", "started": "t"}) == "pid 7 on h, started t"
    assert describe({"pid": 7, "host": "h", "started": "t", "command": "c"}) == "pid 7 on h, started t (c)"


def test_published_paths_keep_byte_ranges_and_crop_boxes_after_the_file():
    from pipelines.core.paths import relative_to

    roots = ["/data/raw", "/data/raw/images"]
    assert relative_to("/data/raw/images/a.jpg#10,20,30,40", roots) == "a.jpg#10,20,30,40"
    assert relative_to("/data/raw/dialogs/d.json@100-200", roots) == "dialogs/d.json@100-200"
    assert relative_to("/elsewhere/x/b.png#1,2,3,4", roots) == "b.png#1,2,3,4"  # outside every root: the file name only
    assert relative_to("s3://bucket/c.jpg", roots) == "s3://bucket/c.jpg"


def test_split_names_and_their_reading_order():
    import pytest

    from pipelines.core.splits import hash_split, normalise_split_name, split_order

    assert [normalise_split_name(s) for s in ("dev", "VAL", "validation", "eval", "train", "Test")] == [
        "valid",
        "valid",
        "valid",
        "valid",
        "train",
        "test",
    ]
    assert split_order(["shared", "test", "zeta", "devtest", "valid", "train", "dev"]) == [
        "train",
        "valid",
        "dev",
        "devtest",
        "test",
        "shared",
        "zeta",
    ]
    with pytest.raises(ValueError, match="ratios must name at least one split"):
        hash_split("k", {})


def test_the_reference_net_finds_a_dangling_positive_product(tmp_path):
    """The check before publishing (the net under the builders' own row-level refusals) holds every
    build to the common references: a positive id with no product is reported."""
    import json

    import pyarrow.parquet as pq

    from pipelines.core.references import check, problems
    from pipelines.mmd.builder import MMDBuilder
    from pipelines.mmd.generator import GeneratorConfig, generate
    from tests.conftest import build

    raw = tmp_path / "raw"
    generate(GeneratorConfig(out=str(raw), dialogs=8, seed=2))
    out = tmp_path / "out"
    build(MMDBuilder(raw=str(raw)), out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert problems(check(str(out.resolve()), manifest)) == []
    split, info = next((s, i) for s, i in manifest["tables"]["rec_samples"].items() if i["rows"])
    path = out / info["files"][0]["path"]
    table = pq.read_table(path)
    rows = table.to_pylist()
    rows[0]["positive_ids"] = [*rows[0]["positive_ids"], "NO-SUCH-PRODUCT"]
    pq.write_table(table.from_pylist(rows, schema=table.schema), path)
    found = problems(check(str(out.resolve()), manifest))
    assert any("rec_samples.positive_ids -> products.product_id" in line and "NO-SUCH-PRODUCT" in line for line in found), found
