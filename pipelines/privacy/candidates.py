"""The manual-check work list: images automatic masking left without any mask.

The build writes it as the `privacy_candidates` table; `write_jsonl` gives the docs/exchange-formats.md JSONL
form (`{"image_id", "source_key", "uri"}` plus reason, status and text-line count) for the
annotation helper's privacy-check flow.
"""

from __future__ import annotations

import json


def read(out: str) -> list[dict]:
    from pipelines.core.parquet import read_table

    rows = read_table(out, "privacy_candidates").to_pylist()
    return sorted(rows, key=lambda r: (r["image_id"], r["source_key"]))


def write_jsonl(out: str, path: str) -> int:
    from pipelines.core import io

    rows = read(out)
    text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)
    io.write_bytes_atomic(path, text.encode("utf-8"))
    return len(rows)
