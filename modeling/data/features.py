"""`mmdial features`: run the image CNN once over a build's `images` table and store the pooled
features in an `image_features` table, so training reads vectors instead of pixels.

A published snapshot (an output of the build core) is never edited: its features go to a side
build beside the output (`side_build`: `.<name>.side/<snapshot id>/`, with a side manifest naming
`side_build_of`), which training finds by itself. A plain build folder (a copy) gets the table in
place, as below.

The table is a proper table of the build: `<out>/image_features/image_features-shared-00000-of-00001.parquet`
(nothing else in that folder; row groups capped by bytes like every table), registered in
`<out>/manifest.json` (`tables.image_features`, its schema version, and `image_features`: the
encoder, weights, image size and counts, which tell a later run whether the table fits its config).
Images are streamed in batches of rows (pyarrow); an image that does not decode, or that has no
bytes (a build made with --no-image-bytes), becomes a dead letter in
`<out>/dead_letters/dead_letters-features-00000-of-00001.parquet` with its id and reason, never a
zero vector. Images in = features out + dead letters. Writes are atomic (temporary name, then
rename). When `<out>` is not a build (the fallback folder of a read-only build), its
`manifest.json` is a side manifest: these two tables and `side_build_of` (the build's path).
"""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from modeling.core.progress import bar as progress_bar
from modeling.data import tables
from schemas.core import SPLIT_SHARED

TABLE = "image_features"
DEAD_SPLIT = "features"
FEATURES_FILE = f"{TABLE}-{SPLIT_SHARED}-00000-of-00001.parquet"
DEAD_FILE = f"dead_letters-{DEAD_SPLIT}-00000-of-00001.parquet"
MANIFEST = "manifest.json"


def features_dir(out: str) -> str:
    return os.path.join(out, TABLE)


def _manifest(out: str) -> dict | None:
    path = os.path.join(out, MANIFEST)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def read_meta(out: str) -> dict | None:
    """The `image_features` entry of OUT's manifest, when its table file is there."""
    manifest = _manifest(out)
    if not manifest or not os.path.exists(os.path.join(features_dir(out), FEATURES_FILE)):
        return None
    return manifest.get(TABLE)


def _write_atomic(path: str, write) -> int:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = os.path.join(os.path.dirname(path), f".tmp-{os.getpid()}-{os.path.basename(path)}")
    write(tmp)
    os.replace(tmp, path)
    return os.path.getsize(path)


def _register(out: str, data: str, summary: dict, rows: int, size: int, dead: int, dead_size: int) -> None:
    """Add the table (and its dead letters) to OUT's manifest, or write a side manifest."""
    from schemas import get

    manifest = _manifest(out) or {
        "dataset": "image_features",
        "side_build_of": os.path.abspath(data),
        "side_build_of_snapshot": published_snapshot(data),
        "tables": {},
        "schema_versions": {},
    }
    entry = {"path": f"{TABLE}/{FEATURES_FILE}", "rows": rows, "bytes": size}
    manifest["tables"][TABLE] = {SPLIT_SHARED: {"rows": rows, "bytes": size, "files": [entry]}}
    dl = manifest["tables"].setdefault("dead_letters", {})
    dl.pop(DEAD_SPLIT, None)
    if dead:
        dl[DEAD_SPLIT] = {
            "rows": dead,
            "bytes": dead_size,
            "files": [{"path": f"dead_letters/{DEAD_FILE}", "rows": dead, "bytes": dead_size}],
        }
    if not dl:
        manifest["tables"].pop("dead_letters")
    manifest["tables"] = dict(sorted(manifest["tables"].items()))
    manifest.setdefault("schema_versions", {})[TABLE] = get(TABLE).version
    if dead:
        manifest["schema_versions"]["dead_letters"] = get("dead_letters").version
    manifest["schema_versions"] = dict(sorted(manifest["schema_versions"].items()))
    manifest[TABLE] = summary
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    _write_atomic(os.path.join(out, MANIFEST), lambda tmp: open(tmp, "w", encoding="utf-8").write(text))
    if "side_build_of" not in manifest and os.path.exists(os.path.join(out, "README.md")):
        from pipelines.core.card import write_card

        write_card(out, manifest)  # the card gets the new table's config and features


def compute_features(
    data: str,
    out: str | None = None,
    encoder: str = "efficientnet_lite0",
    weights: str | None = None,
    image_size: int = 224,
    batch_size: int = 32,
    device: str = "cpu",
    seed: int = 0,
    progress: bool = False,
) -> dict:
    """Write `<out>/image_features/` (out defaults to the build folder). Returns the summary."""
    import torch

    from modeling.encoders.images import FeatureExtractor, decode
    from schemas import get

    out = out or default_out(data)
    check_out(data, out)
    files = tables.require_files(data, "images")
    extractor = FeatureExtractor(encoder, weights, seed).to(device)
    schema = get("image_features").schema_with_metadata()
    dead_schema = get("dead_letters").schema_with_metadata()
    from pipelines.core.layout import row_group_rows

    dead_rows: list[dict] = []
    parts: list[pa.Table] = []
    n_in = n_out = 0
    started = time.time()
    total = tables.count_rows(files)
    bar = progress_bar(total, f"features ({encoder})", progress, unit="img")
    target = os.path.join(features_dir(out), FEATURES_FILE)
    os.makedirs(features_dir(out), exist_ok=True)
    tmp = os.path.join(features_dir(out), f".tmp-{os.getpid()}-{FEATURES_FILE}")
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:

        def flush() -> None:
            if parts:
                group = pa.concat_tables(parts)
                writer.write_table(group, row_group_size=row_group_rows(group))
                parts.clear()

        for batch in tables.iter_batches(files, ["dataset", "image_id", "data", "source_key"], batch_size):
            ids = batch.column("image_id").to_pylist()
            datasets = batch.column("dataset").to_pylist()
            blobs = batch.column("data").to_pylist()
            keys = batch.column("source_key").to_pylist()
            pixels, good = [], []
            for i, blob in enumerate(blobs):
                n_in += 1
                try:
                    if blob is None:
                        raise ValueError("no image bytes in the images table (built with --no-image-bytes?)")
                    pixels.append(decode(blob, image_size))
                    good.append(i)
                except Exception as exc:  # noqa: BLE001 - any undecodable image is a dead letter
                    dead_rows.append(
                        {
                            "dataset": datasets[i],
                            "split": SPLIT_SHARED,
                            "stage": "features",
                            "source": "images",
                            "locator": f"{ids[i]} ({keys[i]})",
                            "reason": f"{type(exc).__name__}: {exc}",
                            "excerpt": "",
                        }
                    )
            if good:
                x = torch.from_numpy(np.stack(pixels)).to(device)
                feats = extractor(x).cpu().numpy().astype(np.float32)
                parts.append(
                    pa.table(
                        {
                            "dataset": pa.array([datasets[i] for i in good], pa.string()),
                            "image_id": pa.array([ids[i] for i in good], pa.string()),
                            "split": pa.array([SPLIT_SHARED] * len(good), pa.string()),
                            "encoder": pa.array([encoder] * len(good), pa.string()),
                            "feature": pa.FixedSizeListArray.from_arrays(pa.array(feats.reshape(-1)), feats.shape[1]).cast(
                                pa.list_(pa.float32())
                            ),
                        },
                        schema=schema,
                    )
                )
                n_out += len(good)
                if sum(p.num_rows for p in parts) >= row_group_rows(parts[0]):
                    flush()  # a row group of about ROW_GROUP_BYTES, not one per CNN batch
            if bar:
                bar.update(len(blobs))
        flush()
    if bar:
        bar.close()
    os.replace(tmp, target)
    dead_path = os.path.join(out, "dead_letters", DEAD_FILE)
    dead_size = 0
    if dead_rows:
        dead_table = pa.Table.from_pylist(dead_rows, schema=dead_schema).sort_by([("source", "ascending"), ("locator", "ascending")])
        dead_size = _write_atomic(dead_path, lambda tmp: pq.write_table(dead_table, tmp, compression="zstd"))
    elif os.path.exists(dead_path):
        os.remove(dead_path)  # an earlier run's dead letters
    summary = {
        "encoder": encoder,
        "weights": weights,
        "image_size": image_size,
        "dim": extractor.dim,
        "images_in": n_in,
        "features_out": n_out,
        "dead": len(dead_rows),
        "seconds": round(time.time() - started, 2),
        "source": os.path.abspath(data),
    }
    _register(out, data, summary, n_out, os.path.getsize(target), len(dead_rows), dead_size)
    return summary


def published_snapshot(data: str) -> str | None:
    """The id of the published snapshot `data` shows, when `data` is an output of the build core
    (a symbolic link into its builds folder, or an object store with CURRENT); None for a plain
    folder (a copied build, a fixture)."""
    from pipelines.core.publish import store_for

    try:
        return store_for(data).current_id()
    except (OSError, ValueError):
        return None


def side_build(data: str) -> str | None:
    """Where the features of a published snapshot go: a side build beside the output,
    `<parent>/.<name>.side/<snapshot id>/`, so the snapshot stays as published (its files, manifest
    and card untouched) and a new snapshot of the build gets features of its own."""
    build_id = published_snapshot(data)
    if not build_id or "://" in data:
        return None
    parent, name = os.path.split(os.path.abspath(data.rstrip("/")))
    return os.path.join(parent, f".{name}.side", build_id)


def default_out(data: str) -> str:
    """`mmdial features` without --out: the side build of a published snapshot, else the folder."""
    return side_build(data) or data


def check_out(data: str, out: str) -> None:
    """Refuse to write into a published snapshot."""
    if published_snapshot(data) and os.path.realpath(out) == os.path.realpath(data):
        raise ValueError(f"--out {out}: the published snapshot of {data}; features go to a side build (leave --out out)")


def ensure_features(data: str, cfg_image: dict, fallback_out: str, device: str = "cpu", progress: bool = False) -> str:
    """The folder holding an image_features table that matches `cfg_image`, computing it if needed.

    `image.features: auto` looks in DATA, in the side build of DATA's published snapshot, then in
    FALLBACK (the run folder), and computes the table into the first of these that may be written:
    DATA only when it is a plain folder (never a published snapshot), the side build when its
    parent is writable, else FALLBACK. Any other value is a folder that must already hold the table."""
    want = cfg_image.get("features") or "auto"
    if want != "auto":
        if not tables.table_files(want, "image_features"):
            raise tables.DataError(f"image.features={want}: no image_features table there (run `mmdial features`)")
        return want
    side = side_build(data)
    for root in [r for r in (data, side, fallback_out) if r]:
        meta = read_meta(root)
        if (
            meta
            and meta.get("encoder") == cfg_image["encoder"]
            and meta.get("image_size") == cfg_image["image_size"]
            and meta.get("weights") == cfg_image.get("weights")
        ):
            return root
    if side:
        root = side if os.access(os.path.dirname(os.path.dirname(side)), os.W_OK) else fallback_out
    else:
        root = data if os.access(data, os.W_OK) else fallback_out
    compute_features(
        data,
        root,
        cfg_image["encoder"],
        cfg_image.get("weights"),
        cfg_image["image_size"],
        cfg_image.get("batch_size", 32),
        device,
        progress=progress,
    )
    return root
