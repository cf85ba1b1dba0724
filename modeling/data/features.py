"""`mmdial features`: run the image CNN once over a build's `images` table and store the pooled
features in an `image_features` Parquet table, so training reads vectors instead of pixels.

Images are streamed in batches of rows (pyarrow); an image that does not decode, or that has no
bytes (a build made with --no-image-bytes), becomes a dead letter in
`<out>/image_features/_dead_letters.parquet` with its id and reason, never a zero vector.
Images in = features out + dead letters. The write is atomic (temporary name, then rename), and
`_meta.json` records the encoder so a later run can tell whether the table fits its config.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from modeling.data import tables
from schemas.core import SPLIT_SHARED

FEATURES_FILE = "image_features-all-00000-of-00001.parquet"
DEAD_FILE = "_dead_letters.parquet"
META_FILE = "_meta.json"


def features_dir(out: str) -> str:
    return os.path.join(out, "image_features")


def read_meta(out: str) -> dict | None:
    path = os.path.join(features_dir(out), META_FILE)
    if not os.path.exists(path) or not os.path.exists(os.path.join(features_dir(out), FEATURES_FILE)):
        return None
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


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

    out = out or data
    files = tables.require_files(data, "images")
    extractor = FeatureExtractor(encoder, weights, seed).to(device)
    schema = get("image_features").schema_with_metadata()
    dead_schema = get("dead_letters").schema_with_metadata()
    folder = features_dir(out)
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".tmp-{os.getpid()}-{FEATURES_FILE}")
    dead_rows: list[dict] = []
    n_in = n_out = 0
    started = time.time()
    total = tables.count_rows(files)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, desc=f"features ({encoder})", unit="img")
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
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
                rows = pa.table(
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
                writer.write_table(rows)
                n_out += len(good)
            if bar:
                bar.update(len(blobs))
    if bar:
        bar.close()
    os.replace(tmp, os.path.join(folder, FEATURES_FILE))
    dead_tmp = os.path.join(folder, f".tmp-{os.getpid()}-{DEAD_FILE}")
    pq.write_table(pa.Table.from_pylist(dead_rows, schema=dead_schema), dead_tmp)
    os.replace(dead_tmp, os.path.join(folder, DEAD_FILE))
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
    meta_tmp = os.path.join(folder, f".tmp-{META_FILE}")
    with open(meta_tmp, "w", encoding="utf-8") as fh:
        json.dump(summary, fh, indent=2, sort_keys=True)
    os.replace(meta_tmp, os.path.join(folder, META_FILE))
    return summary


def ensure_features(data: str, cfg_image: dict, fallback_out: str, device: str = "cpu", progress: bool = False) -> str:
    """The folder holding an image_features table that matches `cfg_image`, computing it if needed.

    `image.features: auto` uses DATA/image_features (or FALLBACK/image_features when DATA is not
    writable); any other value is a folder that must already hold the table."""
    want = cfg_image.get("features") or "auto"
    if want != "auto":
        if not tables.table_files(want, "image_features"):
            raise tables.DataError(f"image.features={want}: no image_features table there (run `mmdial features`)")
        return want
    for root in (data, fallback_out):
        meta = read_meta(root)
        if (
            meta
            and meta.get("encoder") == cfg_image["encoder"]
            and meta.get("image_size") == cfg_image["image_size"]
            and meta.get("weights") == cfg_image.get("weights")
        ):
            return root
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
