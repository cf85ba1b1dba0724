"""The single-process MMD converter the Beam build is measured against: plain json + pyarrow.

It uses the same parsing and row functions as the pipeline (so both do the same work) but no Beam,
no shards and no markers: one loop over the files, row batches streamed into one ParquetWriter per
table and split. `python -m benchmarks.baseline_mmd RAW OUT`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pyarrow.parquet as pq

from pipelines.core.splits import normalise_split_name
from pipelines.mmd.builder import SPLIT_FOLDERS
from pipelines.mmd.images import ImageResolver, load_url2img, stem
from pipelines.mmd.reader import parse_dialog
from pipelines.mmd.transforms import rec_sample_rows, turn_row
from schemas import get

BATCH = 2000


def convert(raw: str, out: str) -> dict:
    resolver = ImageResolver(
        None, load_url2img(os.path.join(raw, "url2img.txt")) if os.path.exists(os.path.join(raw, "url2img.txt")) else {}, {}
    )
    writers: dict[tuple[str, str], pq.ParquetWriter] = {}
    buffers: dict[tuple[str, str], list[dict]] = {}
    counts = {"dialogs": 0, "utterances": 0, "rec_samples": 0, "dead": 0}

    def flush(key):
        table, split = key
        rows = buffers.pop(key, [])
        if not rows:
            return
        t = get(table)
        if key not in writers:
            os.makedirs(os.path.join(out, table), exist_ok=True)
            writers[key] = pq.ParquetWriter(
                os.path.join(out, table, f"{table}-{split}.parquet"), t.schema_with_metadata(), compression="zstd"
            )
        writers[key].write_table(t.to_arrow(rows))

    def add(table, split, row):
        key = (table, split)
        row["dataset"] = "mmd"
        buffers.setdefault(key, []).append(row)
        if len(buffers[key]) >= BATCH:
            flush(key)

    for folder in sorted(Path(raw).rglob("*")):
        if not folder.is_dir() or folder.name not in SPLIT_FOLDERS:
            continue
        split = normalise_split_name(SPLIT_FOLDERS[folder.name])
        for path in sorted(folder.glob("*.json")):
            did = stem(path.name)
            try:
                utts = parse_dialog(path.read_bytes())
            except Exception:  # noqa: BLE001
                counts["dead"] += 1
                continue
            for u in utts:
                for ref in u.images:
                    add(
                        "missing_images",
                        split,
                        {"dialog_id": did, "split": split, "turn_index": u.index, "image_ref": ref, "reason": "not_found"},
                    )
                add("turns", split, turn_row(did, split, u, []))
            for r in rec_sample_rows(did, split, utts, {}, resolver, 10):
                add("rec_samples", split, r)
                counts["rec_samples"] += 1
            add(
                "dialogs",
                split,
                {"dialog_id": did, "split": split, "source": str(path), "num_turns": len(utts), "domain": None, "meta": None},
            )
            counts["dialogs"] += 1
            counts["utterances"] += len(utts)
    for key in list(buffers):
        flush(key)
    for w in writers.values():
        w.close()
    return counts


if __name__ == "__main__":
    import gc

    gc.disable()  # as the Beam build does while a shard builds its rows: the comparison stays fair
    print(convert(sys.argv[1], sys.argv[2]))
