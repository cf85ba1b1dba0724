"""`mmdial deidentify`: one text field of a JSON-lines or Parquet file, de-identified.

Every record is written back with the named field replaced by its de-identified text, the other
fields unchanged, an `id` (kept, or `<file name>:<line>` when the record has none) and a record of
what was replaced under `deidentified` (`{"field", "replacements": [{"type", "start", "end",
"recognizer", "placeholder"[, "hash"]}], "registry_sha256"}`: spans in the original text, never
the value). Records of one dialogue (same `--group` field, default `dialog_id` when present) share
placeholder numbers. A malformed line or a field that is not text goes to `<out>.dead_letters.jsonl`
with its source, line and reason; records in = out + dead letters. Outputs are written atomically.
"""

from __future__ import annotations

import io as _io
import json
import os
from collections import Counter
from dataclasses import dataclass, field

from pipelines.privacy.text import Dialogue, TextDeidentifier

RECORD_FIELD = "deidentified"


@dataclass
class Result:
    records_in: int = 0
    records_out: int = 0
    dead: int = 0
    counts: Counter = field(default_factory=Counter)


def _group_key(rec: dict, group: str | None, fallback: str) -> str:
    if group and rec.get(group) is not None:
        return str(rec[group])
    return fallback


def deidentify_record(rec: dict, fld: str, deid: TextDeidentifier, dialogue: Dialogue, digest: str) -> tuple[dict, list[dict]]:
    value = rec.get(fld)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"field {fld!r} holds {type(value).__name__}, not text")
    text, reps = deid.deidentify(value, dialogue)
    records = [r.record() for r in reps]
    return {**rec, fld: text, RECORD_FIELD: {"field": fld, "replacements": records, "registry_sha256": digest}}, records


def run(inp: str, out: str, fld: str, deid: TextDeidentifier, group: str | None = "dialog_id") -> Result:
    from pipelines.core import io

    deid.setup()
    digest = deid.config()["registry_sha256"]
    res = Result()
    dialogues: dict[str, Dialogue] = {}
    dead: list[dict] = []
    name = os.path.basename(inp)
    data = io.read_bytes(inp)
    parquet = inp.endswith(".parquet") or data[:4] == b"PAR1"
    if parquet:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pq.read_table(_io.BytesIO(data))
        if fld not in table.column_names:
            raise ValueError(f"{inp}: no column {fld!r} (columns: {', '.join(table.column_names)})")
        rows = table.to_pylist()
        outs = []
        for i, rec in enumerate(rows):
            res.records_in += 1
            rec.setdefault("id", f"{name}:{i}")
            d = dialogues.setdefault(_group_key(rec, group, rec["id"]), Dialogue())
            try:
                new, reps = deidentify_record(rec, fld, deid, d, digest)
            except ValueError as exc:
                dead.append({"source": inp, "locator": f"row {i}", "reason": str(exc), "id": rec.get("id")})
                continue
            new[RECORD_FIELD] = json.dumps(new[RECORD_FIELD], ensure_ascii=False, sort_keys=True)
            outs.append(new)
            res.counts.update(r["type"] for r in reps)
        buf = _io.BytesIO()
        fields = [table.schema.field(c) for c in table.column_names if c != RECORD_FIELD]
        if "id" not in table.column_names:
            fields.append(pa.field("id", pa.string()))
        schema = pa.schema([*fields, pa.field(RECORD_FIELD, pa.string())])
        pq.write_table(pa.Table.from_pylist(outs, schema=schema), buf)
        io.write_bytes_atomic(out, buf.getvalue())
    else:
        lines = []
        for lineno, raw in io.iter_lines(data):
            if not raw.strip():
                continue
            res.records_in += 1
            try:
                rec = json.loads(raw)
                if not isinstance(rec, dict):
                    raise ValueError("a JSON object per line expected")
                rec.setdefault("id", f"{name}:{lineno}")
                d = dialogues.setdefault(_group_key(rec, group, str(rec["id"])), Dialogue())
                new, reps = deidentify_record(rec, fld, deid, d, digest)
            except ValueError as exc:  # json.JSONDecodeError is a ValueError
                dead.append({"source": inp, "locator": f"line {lineno}", "reason": f"{type(exc).__name__}: {exc}"[:500]})
                continue
            lines.append(json.dumps(new, ensure_ascii=False))
            res.counts.update(r["type"] for r in reps)
        io.write_bytes_atomic(out, ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8"))
    res.records_out = res.records_in - len(dead)
    res.dead = len(dead)
    dl = out + ".dead_letters.jsonl"
    if dead:
        io.write_bytes_atomic(dl, "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in dead).encode("utf-8"))
    elif io.exists(dl):
        io.delete(dl)  # a re-run that succeeds leaves no stale dead letters
    return res
