"""Parquet shard files: explicit schema, zstd, deterministic row order, atomic rename.

File names follow `<table>/<table>-<split>-<shard:05d>-of-<num_shards:05d>-<token>.parquet`, where a
build's token is the first characters of the shard's content fingerprint (pipelines/core/fingerprint.py):
two files of one output with the same name hold the same bytes, so a reader that lists a table
through the output's link and then opens the files reads one build or gets FileNotFoundError,
never a mix of two builds (docs/architecture.md, "What readers see during a publish"). Files
written outside a build (annotation exports) have no token. A row that
does not fit its table's schema dead-letters the record that produced it instead of failing the
shard (see `ShardContext.demote`).
"""

from __future__ import annotations

import io as _io

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.core import io
from pipelines.core.context import ShardContext
from pipelines.core.layout import row_group_rows
from schemas import Table, get

COMPRESSION = "zstd"


TOKEN_CHARS = 12


def shard_file_name(table: str, split: str, shard: int, num_shards: int, token: str = "") -> str:
    suffix = f"-{token[:TOKEN_CHARS]}" if token else ""
    return f"{table}-{split}-{shard:05d}-of-{num_shards:05d}{suffix}.parquet"


def shard_path(out_root: str, table: str, split: str, shard: int, num_shards: int, token: str = "") -> str:
    return io.join(out_root, table, shard_file_name(table, split, shard, num_shards, token))


def _sort(table: Table, rows: list[dict], ids: list[int]) -> tuple[list[dict], list[int]]:
    if not table.sort_key:
        return rows, ids
    order = sorted(range(len(rows)), key=lambda i: tuple(_key(rows[i].get(k)) for k in table.sort_key))
    return [rows[i] for i in order], [ids[i] for i in order]


def _key(value):
    return (value is None, value if value is not None else 0)


def to_arrow_checked(ctx: ShardContext, table: Table, rows: list[dict], ids: list[int]) -> tuple[pa.Table, list[int]]:
    """Convert rows; on a type error find the offending records and dead-letter them.

    Returns the Arrow table and the record id of each of its rows."""
    try:
        return table.to_arrow(rows), ids
    except (pa.ArrowException, ValueError, TypeError, OverflowError):
        pass
    bad: dict[int, str] = {}
    for row, rid in zip(rows, ids):
        try:
            table.to_arrow([row])
        except (pa.ArrowException, ValueError, TypeError, OverflowError) as exc:
            bad.setdefault(rid, f"schema {table.name}: {type(exc).__name__}: {exc}")
    for rid, reason in bad.items():
        if rid == 0:
            raise ValueError(f"row outside any record does not fit {table.name}: {reason}")
        ctx.demote(rid, reason)
    kept = [(row, rid) for row, rid in zip(rows, ids) if rid not in bad]
    return table.to_arrow([row for row, _ in kept]), [rid for _, rid in kept]


def encode(table: pa.Table) -> bytes:
    buf = _io.BytesIO()
    pq.write_table(
        table,
        buf,
        compression=COMPRESSION,
        row_group_size=row_group_rows(table),
        use_dictionary=True,
        write_statistics=True,
    )
    return buf.getvalue()


def write_table_file(path: str, table: pa.Table) -> int:
    data = encode(table)
    io.write_bytes_atomic(path, data)
    return len(data)


def read_table(out_root: str, table: str, split: str | None = None, columns: list[str] | None = None) -> pa.Table:
    """Read every shard of a table (optionally one split) back into one Arrow table."""
    from pipelines.core.publish import resolve

    spec = io.join(resolve(out_root), table, f"{table}-{split or '*'}-*-of-*.parquet")
    from apache_beam.io.filesystems import FileSystems

    paths = sorted(m.path for r in FileSystems.match([spec]) for m in r.metadata_list)
    schema = get(table).schema_with_metadata()
    if not paths:
        return schema.empty_table() if columns is None else schema.empty_table().select(columns)
    parts = []
    for p in paths:
        with FileSystems.open(p, compression_type="uncompressed") as fh:
            parts.append(pq.read_table(_io.BytesIO(fh.read()), columns=columns))
    return pa.concat_tables(parts)
