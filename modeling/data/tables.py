"""The one reader of builds for modeling: where a build's tables live and how to stream them.

The files of a table are those the build's manifest lists (`table_files`). Readers here open them
with pyarrow and yield record batches of the columns they need, so no table is ever turned into
Python objects as a whole; only the batch being worked on is.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq


class DataError(ValueError):
    """The build folder lacks what a run needs (a table, a split, a column)."""


def table_files(root: str, table: str, split: str | None = None) -> list[str]:
    """The files of `table` (one split, or every split in name order) in the build at `root`, as
    its manifest lists them (pipelines.core's public reading API: `resolve`, `read_manifest`,
    `file_paths`), so modeling never depends on how the build core names files. A folder whose
    manifest does not list the table (a bare table folder, a hand-made fixture) is globbed for the
    `<table>-<split>-*-of-*.parquet` files of the layout."""
    from pipelines.core.manifest import NotABuild, file_paths, read_manifest
    from pipelines.core.publish import resolve

    try:
        listed = read_manifest(root).get("tables", {}).get(table)
    except (NotABuild, OSError):
        listed = None
    if listed is not None:
        base = resolve(root)
        names = [split] if split else sorted(listed)
        return [os.path.join(base, p) for name in names if name in listed for p in file_paths(listed[name])]
    pattern = os.path.join(root, table, f"{table}-{split or '*'}-*-of-*.parquet")
    return sorted(glob.glob(pattern))


def require_files(root: str, table: str, split: str | None = None) -> list[str]:
    files = table_files(root, table, split)
    if not files:
        what = f"{table} ({split})" if split else table
        raise DataError(f"{root}: no {what} Parquet files (is this an `mmdial build` output?)")
    return files


def iter_batches(files: list[str], columns: list[str], batch_rows: int = 1024) -> Iterator[pa.RecordBatch]:
    for path in files:
        pf = pq.ParquetFile(path)
        yield from pf.iter_batches(batch_size=batch_rows, columns=columns)


def read_columns(files: list[str], columns: list[str]) -> pa.Table:
    """A few narrow columns of every file as one Arrow table (ids, indices; never text or bytes)."""
    parts = [pq.read_table(p, columns=columns) for p in files]
    if not parts:
        raise DataError("no files to read")
    return pa.concat_tables(parts)


def count_rows(files: list[str]) -> int:
    return sum(pq.ParquetFile(p).metadata.num_rows for p in files)


def map_as_pairs(table: pa.Table, column: str) -> pa.Table:
    """`column` as list<struct<key, value>> (what polars and numpy code expect; nulls stay null).

    Builds write that type already (schemas.core.KEY_VALUES); builds made before schema version 2
    wrote map<string, string>, which is converted here."""
    if not pa.types.is_map(table.schema.field(column).type):
        return table
    chunks = []
    for chunk in table.column(column).chunks:
        pairs = pa.StructArray.from_arrays([chunk.keys, chunk.items], ["key", "value"])
        chunks.append(pa.ListArray.from_arrays(chunk.offsets, pairs, mask=chunk.is_null()))
    typ = pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())]))
    col = pa.chunked_array(chunks, type=typ)
    return table.set_column(table.schema.get_field_index(column), column, col)
