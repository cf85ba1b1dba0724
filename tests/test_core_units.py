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
