"""Which files a build writes and how they are cut, so every Parquet reader takes them as they are.

- no 0-row files: a split with no rows in a shard gets no file there (Hugging Face `datasets`
  fails on an empty file, and a folder of mostly empty files hides where the data is);
- shards balanced by a hash of the record key: the work units of every (split, kind) group are
  dealt out over all shards in the order of a hash of their key, so each shard (and so each
  table's files) gets its share of every split instead of a sorted run of one of them;
- row groups capped by bytes as well as rows, so image tables do not make huge row groups.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict

import pyarrow as pa

ROW_GROUP_ROWS = 64_000
ROW_GROUP_BYTES = 32 * 2**20  # in-memory Arrow bytes per row group (before compression)


def row_group_rows(table: pa.Table, max_rows: int = ROW_GROUP_ROWS, max_bytes: int = ROW_GROUP_BYTES) -> int:
    """Rows per row group for `table`: at most `max_rows`, and about `max_bytes` of data at most."""
    if table.num_rows == 0:
        return max_rows
    per_row = max(1.0, table.nbytes / table.num_rows)
    return max(1, min(max_rows, int(max_bytes // per_row)))


def _unit_hash(unit) -> str:
    return hashlib.sha256(f"{unit.path}\0{unit.start}\0{unit.end}\0{unit.key}".encode()).hexdigest()


def deal_units(units: list, shard_bytes: int) -> list[list]:
    """Cut work units into shards: the count follows from the total size; within each (split, kind)
    group units go, in hash order, to the shard holding the fewest bytes of that group (ties: the
    fewest bytes overall, then the lowest number). Each shard's units are returned sorted."""
    units = sorted(units, key=lambda u: (u.split, u.kind, u.path, u.start))
    total = sum(max(u.size, 1) for u in units)
    n = max(1, min(len(units), math.ceil(total / max(shard_bytes, 1))))
    groups: dict[tuple[str, str], list] = defaultdict(list)
    for u in units:
        groups[(u.split, u.kind)].append(u)
    shards: list[list] = [[] for _ in range(n)]
    load = [0] * n
    for key in sorted(groups):
        group_load = [0] * n
        for u in sorted(groups[key], key=lambda u: (-max(u.size, 1), _unit_hash(u))):
            i = min(range(n), key=lambda j: (group_load[j], load[j], j))
            shards[i].append(u)
            group_load[i] += max(u.size, 1)
            load[i] += max(u.size, 1)
    out = [sorted(s, key=lambda u: (u.split, u.kind, u.path, u.start)) for s in shards if s]
    return out or [[]]
