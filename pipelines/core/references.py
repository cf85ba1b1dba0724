"""Reference integrity of a finished build, checked before it is published.

The builders make references resolve while they build (a row whose id would dangle is
dead-lettered with the reason); this check is the core's guarantee on top: it reads only the id
columns of the snapshot's files and counts ids that resolve to nothing in the same build and ids
that are not unique where the schema says so. Any violation fails the build (manifest status
`failed`, not published), so consumers never join against a dangling id or multiply rows.
"""

from __future__ import annotations

import io as _io
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.core import io
from pipelines.core.manifest import file_paths

MAX_EXAMPLES = 5

#: (table, column, target table, target column) every build is held to when both tables exist.
COMMON_REFERENCES: tuple[tuple[str, str, str, str], ...] = (
    ("turns", "dialog_id", "dialogs", "dialog_id"),
    ("rec_samples", "dialog_id", "dialogs", "dialog_id"),
    ("dialog_states", "dialog_id", "dialogs", "dialog_id"),
    ("turns", "image_ids", "images", "image_id"),
    ("products", "image_ids", "images", "image_id"),
    ("rec_samples", "positive_ids", "products", "product_id"),
    ("rec_samples", "negative_ids", "products", "product_id"),
    ("turns", "item_ids", "products", "product_id"),
)
#: table -> key columns unique across the whole build (all splits, all shard files)
COMMON_UNIQUE: dict[str, tuple[str, ...]] = {
    "dialogs": ("dialog_id",),
    "images": ("image_id",),
    "products": ("product_id",),
    "rec_samples": ("sample_id",),
    "turns": ("dialog_id", "turn_index"),
}


def _files(build: str, manifest: dict, table: str) -> list[str]:
    splits = manifest["tables"].get(table, {})
    return [f if "://" in f else io.join(build, f) for s in sorted(splits) for f in file_paths(splits[s])]


def read_columns(build: str, manifest: dict, table: str, columns: list[str]) -> pa.Table | None:
    files = _files(build, manifest, table)
    if not files:
        return None
    parts = [pq.read_table(_io.BytesIO(io.read_bytes(f)), columns=columns) for f in files]
    return pa.concat_tables(parts)


def _values(arrow: pa.Table, column: str) -> pa.Array:
    col = arrow.column(column).combine_chunks()
    if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
        col = pc.list_flatten(col)
    return col.drop_null()


def check(build: str, manifest: dict, references=(), unique=None) -> dict:
    """{'dangling': {"t.c -> t2.c2": n}, 'duplicates': {"t(cols)": n}, 'examples': {...}}."""
    refs = list(COMMON_REFERENCES) + [tuple(r) for r in references]
    keys = {**COMMON_UNIQUE, **(unique or {})}
    tables = manifest["tables"]
    cache: dict[tuple[str, str], set] = {}
    dangling, duplicates, examples = {}, {}, {}
    for table, column, target, target_column in dict.fromkeys(refs):
        if table not in tables or target not in tables:
            continue
        arrow = read_columns(build, manifest, table, [column])
        if arrow is None or column not in arrow.column_names:
            continue
        if (target, target_column) not in cache:
            t = read_columns(build, manifest, target, [target_column])
            cache[(target, target_column)] = set(_values(t, target_column).to_pylist()) if t is not None else set()
            if target == "images" and "privacy_quarantine" in tables:  # withheld, not missing
                q = read_columns(build, manifest, "privacy_quarantine", ["image_id"])
                cache[(target, target_column)] |= set(_values(q, "image_id").to_pylist()) if q is not None else set()
        known = cache[(target, target_column)]
        missing = [v for v in _values(arrow, column).to_pylist() if v not in known]
        if missing:
            name = f"{table}.{column} -> {target}.{target_column}"
            dangling[name] = len(missing)
            examples[name] = sorted(set(missing))[:MAX_EXAMPLES]
    for table, cols in sorted(keys.items()):
        if table not in tables:
            continue
        arrow = read_columns(build, manifest, table, list(cols))
        if arrow is None:
            continue
        counts = Counter(zip(*(arrow.column(c).to_pylist() for c in cols)))
        dup = {k: n for k, n in counts.items() if n > 1}
        if dup:
            name = f"{table}({', '.join(cols)})"
            duplicates[name] = sum(n - 1 for n in dup.values())
            examples[name] = [list(k) if len(k) > 1 else k[0] for k in sorted(dup, key=str)[:MAX_EXAMPLES]]
    checked = {
        "references": [list(r) for r in dict.fromkeys(refs) if r[0] in tables and r[2] in tables],
        "unique": {t: list(c) for t, c in sorted(keys.items()) if t in tables},
    }
    return {"dangling": dangling, "duplicates": duplicates, "examples": examples, "checked": checked}


def problems(result: dict) -> list[str]:
    """One line per violation, for the manifest's `failures` and the CLI's error."""
    out = [f"{n} dangling reference(s) {name} (e.g. {result['examples'][name][:2]})" for name, n in result["dangling"].items()]
    out += [f"{n} duplicate key(s) in {name} (e.g. {result['examples'][name][:2]})" for name, n in result["duplicates"].items()]
    return out
