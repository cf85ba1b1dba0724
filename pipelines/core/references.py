"""Reference integrity of a finished build, checked before it is published.

The builders make references resolve while they build (a row whose id would dangle is
dead-lettered with the reason); this check is the core's guarantee on top: it reads only the id
columns of the snapshot's files and counts ids that resolve to nothing in the same build and ids
that are not unique where the schema says so. Any violation fails the build (manifest status
`failed`, not published), so consumers never join against a dangling id or multiply rows.
"""

from __future__ import annotations

import io as _io

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
    """{'dangling': {"t.c -> t2.c2": n}, 'duplicates': {"t(cols)": n}, 'examples': {...}}.

    Over Arrow arrays with pyarrow.compute (`is_in` against the target's distinct ids, a
    group-by count for keys), not Python sets of every id: the launcher's serial time stays
    small for millions of rows."""
    refs = list(COMMON_REFERENCES) + [tuple(r) for r in references]
    keys = {**COMMON_UNIQUE, **(unique or {})}
    tables = manifest["tables"]
    cache: dict[tuple[str, str], pa.Array] = {}
    dangling, duplicates, examples = {}, {}, {}
    for table, column, target, target_column in dict.fromkeys(refs):
        if table not in tables or target not in tables:
            continue
        arrow = read_columns(build, manifest, table, [column])
        if arrow is None or column not in arrow.column_names:
            continue
        if (target, target_column) not in cache:
            cache[(target, target_column)] = _known(build, manifest, tables, target, target_column)
        values = _values(arrow, column)
        known = cache[(target, target_column)]
        missing = values.filter(pc.invert(pc.is_in(values, value_set=known if known.type == values.type else known.cast(values.type))))
        if len(missing):
            name = f"{table}.{column} -> {target}.{target_column}"
            dangling[name] = len(missing)
            examples[name] = sorted(pc.unique(missing).to_pylist())[:MAX_EXAMPLES]
    for table, cols in sorted(keys.items()):
        if table not in tables:
            continue
        arrow = read_columns(build, manifest, table, list(cols))
        if arrow is None or arrow.num_rows == 0:
            continue
        counts = arrow.group_by(list(cols)).aggregate([([], "count_all")])
        dup = counts.filter(pc.greater(counts.column("count_all"), 1))
        if dup.num_rows:
            name = f"{table}({', '.join(cols)})"
            duplicates[name] = int(pc.sum(pc.subtract(dup.column("count_all"), 1)).as_py())
            keys_of = sorted(zip(*(dup.column(c).to_pylist() for c in cols)), key=str)[:MAX_EXAMPLES]
            examples[name] = [list(k) if len(k) > 1 else k[0] for k in keys_of]
    checked = {
        "references": [list(r) for r in dict.fromkeys(refs) if r[0] in tables and r[2] in tables],
        "unique": {t: list(c) for t, c in sorted(keys.items()) if t in tables},
    }
    return {"dangling": dangling, "duplicates": duplicates, "examples": examples, "checked": checked}


def _known(build: str, manifest: dict, tables: dict, target: str, target_column: str) -> pa.Array:
    """The distinct ids of `target.target_column` (images: with the quarantined ones, which are
    withheld, not missing)."""
    parts = []
    t = read_columns(build, manifest, target, [target_column])
    if t is not None:
        parts.append(_values(t, target_column))
    if target == "images" and "privacy_quarantine" in tables:
        q = read_columns(build, manifest, "privacy_quarantine", ["image_id"])
        if q is not None:
            parts.append(_values(q, "image_id"))
    if not parts:
        return pa.array([], pa.string())
    return pc.unique(pa.concat_arrays([p.cast(parts[0].type) for p in parts]))


def problems(result: dict) -> list[str]:
    """One line per violation, for the manifest's `failures` and the CLI's error."""
    out = [f"{n} dangling reference(s) {name} (e.g. {result['examples'][name][:2]})" for name, n in result["dangling"].items()]
    out += [f"{n} duplicate key(s) in {name} (e.g. {result['examples'][name][:2]})" for name, n in result["duplicates"].items()]
    return out
