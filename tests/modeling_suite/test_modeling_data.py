"""Streaming datasets over a real (small, synthetic) MMD build."""

from __future__ import annotations

import glob
import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modeling.config import load_config
from schemas.core import pairs_to_dict


@pytest.fixture(scope="module")
def runtime(mmd_build, tmp_path_factory):
    from modeling.runtime import Runtime

    cfg = load_config("smoke", [f"data={mmd_build}"])
    return Runtime.load(cfg, mmd_build, fallback_out=str(tmp_path_factory.mktemp("feat")))


def _one(build, table, split):
    """The one file of a one-shard build's table split (its name ends in the build's content token)."""
    (path,) = glob.glob(os.path.join(build, table, f"{table}-{split}-00000-of-00001*.parquet"))
    return path


def _rows(build, table, split):
    return pq.read_table(_one(build, table, split)).to_pylist()


def test_states_are_the_latest_at_or_before_the_turn(mmd_build, runtime):
    st = runtime.states("train")
    assert runtime.slot_keys == ["color", "gender", "material", "type"]
    states: dict[str, list] = {}
    for s in _rows(mmd_build, "dialog_states", "train"):
        states.setdefault(s["dialog_id"], []).append(s)
    ids = st.sample_ids.to_pylist()
    checked = 0
    for sample in _rows(mmd_build, "rec_samples", "train"):
        before = [s for s in states.get(sample["dialog_id"], []) if s["turn_index"] <= sample["turn_index"]]
        if not before:
            assert sample["sample_id"] not in ids
            continue
        latest = pairs_to_dict(max(before, key=lambda s: s["turn_index"])["slots"])
        row = ids.index(sample["sample_id"])
        got = {k: st.values[v] for k, v in zip(st.slot_keys, st.value_idx[row], strict=True)}
        assert got == {k: latest.get(k, "none") for k in st.slot_keys}
        checked += 1
    assert checked > 50


def test_supervision_ratio_nests(mmd_build, runtime):
    from modeling.data.states import StateIndex

    keys = runtime.slot_keys
    full = StateIndex.build(mmd_build, "train", keys, 1.0)
    none = StateIndex.build(mmd_build, "train", keys, 0.0)
    small = StateIndex.build(mmd_build, "train", keys, 0.3)
    big = StateIndex.build(mmd_build, "train", keys, 0.7)
    assert full.in_df.all() and not none.in_df.any()
    assert 0 < small.in_df.sum() < big.in_df.sum() < len(full.in_df)
    assert not (small.in_df & ~big.in_df).any()


def test_eval_stream_keeps_every_candidate(mmd_build, runtime):
    stream = runtime.eval_stream("test")
    expected = {r["sample_id"]: (r["num_positives"], r["num_negatives"]) for r in _rows(mmd_build, "rec_samples", "test")}
    seen = 0
    for batch in stream:
        for i, sid in enumerate(batch["sample_id"]):
            p, n = expected[sid]
            assert int(batch["cand_valid"][i].sum()) == p + n
            assert int(batch["cand_pos"][i].sum()) == p
            seen += 1
        assert batch["turn_mask"][:, -1].all()  # right-aligned: the latest turn is last
    assert seen == len(expected) and stream.stats.missing_candidates == 0


def test_train_stream_is_seeded_per_epoch(runtime):
    def first(seed, epoch):
        s = runtime.train_stream(seed)
        s.set_epoch(epoch, 2)
        batches = list(s)
        assert len(batches) == 2
        return batches[0]

    a, b, c = first(0, 0), first(0, 0), first(0, 1)
    for key in ("tokens", "pos_row", "neg_rows", "image_rows"):
        assert np.array_equal(a[key].numpy(), b[key].numpy())
    assert not np.array_equal(a["pos_row"].numpy(), c["pos_row"].numpy())
    assert a["neg_rows"].shape == (32, 4)


def _train_batch(build, negatives):
    """The train split's first record batch with its negative_ids replaced by negatives(row)."""
    from modeling.data.dataset import REC_COLUMNS

    rows = pq.read_table(_one(build, "rec_samples", "train"), columns=REC_COLUMNS)
    rows = rows.slice(0, 64).to_pylist()
    for r in rows:
        r["negative_ids"] = negatives(r)
    return pa.RecordBatch.from_pylist(rows), rows


def _sampled(runtime, batch):
    stream = runtime.train_stream(0)
    out = stream._samples(batch, np.random.default_rng(0))
    assert len(out["pos_row"]) == batch.num_rows  # every row has a positive: rows stay aligned
    return out


def test_sampled_negatives_are_never_positives_of_their_sample(mmd_build, runtime):
    """Per sample, not over the batch: listed negatives that repeat a positive (as native MMD
    lists sometimes do) must not train as negatives."""
    batch, rows = _train_batch(mmd_build, lambda r: r["negative_ids"] + r["positive_ids"])
    out = _sampled(runtime, batch)
    cat = runtime.catalogue
    for i, r in enumerate(rows):
        positives = set(cat.rows(pa.array(r["positive_ids"])).tolist())
        negatives = set(out["neg_rows"][i].tolist())
        assert out["pos_row"][i] in positives
        assert not negatives & positives, (i, r["positive_ids"], r["negative_ids"])
        assert negatives <= set(cat.rows(pa.array(r["negative_ids"])).tolist())


def test_samples_without_listed_negatives_draw_from_the_catalogue(mmd_build, runtime):
    batch, rows = _train_batch(mmd_build, lambda r: [])
    out = _sampled(runtime, batch)
    cat = runtime.catalogue
    assert out["neg_rows"].shape == (len(rows), runtime.cfg["loader"]["train_negatives"])
    assert ((out["neg_rows"] >= 0) & (out["neg_rows"] < len(cat))).all()
    for i, r in enumerate(rows):
        assert not set(out["neg_rows"][i].tolist()) & set(cat.rows(pa.array(r["positive_ids"])).tolist())
    assert len(np.unique(out["neg_rows"])) > len(cat) // 4  # spread over the catalogue, not a few fixed products


def test_context_encoding_limits(runtime):
    from modeling.data.dataset import ContextSpec, encode_contexts

    feats = runtime.features
    img = feats.ids[0].as_py()
    ctx = pa.array([[{"text": f"turn {i}", "image_ids": [img] * 3} for i in range(7)], []])
    out = encode_contexts(ctx, runtime.tokenizer, feats, ContextSpec(turns=5, tokens=8, max_images=5, images_per_turn=5))
    assert out["turn_mask"].tolist() == [[True] * 5, [False] * 4 + [True]]
    kept = (out["image_rows"][0] >= 0).sum(axis=1).tolist()
    assert kept == [0, 0, 0, 2, 3]  # the 5 most recent images
    assert runtime.tokenizer.decode(out["tokens"][0, -1][out["tokens"][0, -1] > 0]) == "[CLS] turn 6 [SEP]"


def test_features_dead_letters_bad_images(mmd_build, tmp_path):
    from modeling.data.catalogue import ImageFeatures
    from modeling.data.features import compute_features
    from schemas import get

    table = pq.read_table(_one(mmd_build, "images", "shared")).slice(0, 6)
    rows = table.to_pylist()
    rows[1]["data"] = b"not an image"
    rows[2]["data"] = None
    data = tmp_path / "build"
    (data / "images").mkdir(parents=True)
    pq.write_table(
        pa.Table.from_pylist(rows, schema=get("images").schema_with_metadata()), data / "images" / "images-shared-00000-of-00001.parquet"
    )
    summary = compute_features(str(data), None, "resnet18_random", image_size=32, batch_size=4)
    assert (summary["images_in"], summary["features_out"], summary["dead"]) == (6, 4, 2)
    dead = pq.read_table(data / "dead_letters" / "dead_letters-features-00000-of-00001.parquet").to_pylist()
    assert {d["locator"].split(" ")[0] for d in dead} == {rows[1]["image_id"], rows[2]["image_id"]}
    assert all(d["stage"] == "features" and d["reason"] for d in dead)
    feats = ImageFeatures.load(str(data))
    assert feats.matrix.shape == (4, 512) and feats.encoder == "resnet18_random"
    # a proper table: only its Parquet file in its folder, registered in the (side) manifest
    assert [p.name for p in (data / "image_features").iterdir()] == ["image_features-shared-00000-of-00001.parquet"]
    manifest = json.loads((data / "manifest.json").read_text())
    assert manifest["tables"]["image_features"]["shared"]["rows"] == 4
    assert manifest["tables"]["dead_letters"]["features"]["files"][0]["rows"] == 2
    assert manifest["image_features"]["encoder"] == "resnet18_random" and manifest["side_build_of"]
