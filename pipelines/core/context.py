"""Per-shard bookkeeping: rows buffered per record, dead letters, and in/out/dead counters.

A data set's parser runs every source record inside `ctx.record(...)`. Rows it emits are kept
only if the whole record succeeds; any exception (or an explicit `Reject`) turns the record into
one dead letter with its source, locator, reason and a raw excerpt. So one bad record never
crashes a build and never leaves half of itself behind, and for every stage
`in == out + dead` holds by construction.
"""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from schemas.core import SPLIT_SHARED

EXCERPT_CHARS = 500


class Reject(Exception):
    """Raise inside a record to dead-letter it with a clear reason (not a crash)."""


def excerpt_of(raw) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bytes):
        raw = raw[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
    elif not isinstance(raw, str):
        try:
            raw = json.dumps(raw, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            raw = repr(raw)
    return raw[:EXCERPT_CHARS]


def reason_of(exc: BaseException) -> str:
    if isinstance(exc, Reject):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


@dataclass
class StageCount:
    records_in: int = 0
    records_out: int = 0
    records_dead: int = 0
    records_filtered: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "in": self.records_in,
            "out": self.records_out,
            "dead": self.records_dead,
            "filtered": self.records_filtered,
        }


@dataclass
class _Record:
    stage: str
    source: str
    locator: str
    split: str
    raw: object
    rows: list[tuple[str, dict]] = field(default_factory=list)
    record_id: int = 0
    filtered: bool = False

    def filter_out(self) -> None:
        """Leave this record out by design (a selection, not an error): counted as `filtered`."""
        self.filtered = True


class ShardContext:
    """Collects one shard's output. `counter_hook(stage, kind, n)` mirrors counts to Beam metrics."""

    def __init__(
        self,
        dataset: str,
        counter_hook: Callable[[str, str, int], None] | None = None,
        on_batch: Callable[[str, list[dict], list[int]], None] | None = None,
        batch_rows: int = 5000,
        roots: list[str] | None = None,
    ):
        """`on_batch(table, rows, record_ids)`, when given, receives each table's committed rows every
        `batch_rows` rows (and at `flush_all`), so the engine can turn them into compact Arrow batches
        while they are still in cache; without it rows simply accumulate in `rows`."""
        self.dataset = dataset
        self.roots = list(roots or [])  # declared input folders: dead letters name paths relative to them
        self._on_batch = on_batch
        self._batch_rows = batch_rows
        self.rows: dict[str, list[dict]] = defaultdict(list)
        self.row_records: dict[str, list[int]] = defaultdict(list)
        self.records: dict[int, tuple[str, str, str, str, object]] = {}
        self.dead_letters: list[dict] = []
        self.stages: dict[str, StageCount] = defaultdict(StageCount)
        self.stats: dict[str, float] = defaultdict(float)
        self.sources: list[dict] = []
        self.demoted_ids: set[int] = set()
        self.expected: list[tuple[str, str, str, str, str, str]] = []
        self.claimed: set[tuple[str, str]] = set()
        self._stack: list[_Record] = []
        self._next_id = 0
        self._hook = counter_hook or (lambda stage, kind, n: None)

    # -- records -------------------------------------------------------------------------
    @contextlib.contextmanager
    def record(self, stage: str, source: str, locator: str, raw=None, split: str = SPLIT_SHARED) -> Iterator[_Record]:
        self._next_id += 1
        rec = _Record(stage, source, str(locator), split, raw, record_id=self._next_id)
        self._count(stage, "in")
        self._stack.append(rec)
        try:
            yield rec
        except Exception as exc:  # noqa: BLE001 - every failure of one record becomes a dead letter
            self._stack.pop()
            self._dead(rec, reason_of(exc))
            return
        self._stack.pop()
        if rec.filtered:
            self._count(stage, "filtered")
            return
        self._count(stage, "out")
        if self._stack:  # nested record: its rows join the parent's fate
            self._stack[-1].rows.extend(rec.rows)
        else:
            self._commit(rec)

    def emit(self, table: str, row: dict) -> None:
        """Add a row to `table`; inside a record it is kept only if the record succeeds."""
        row.setdefault("dataset", self.dataset)
        if self._stack:
            self._stack[-1].rows.append((table, row))
        else:
            self._append(table, row, 0)

    def detach(self) -> None:
        """Forget `on_batch` (whose closure usually refers back to this context)."""
        self._on_batch = None

    def flush_all(self) -> None:
        """Hand every pending row to `on_batch` (the engine calls this before writing)."""
        for table in list(self.rows):
            self._flush(table)

    def count(self, stage: str, out: int, filtered: int = 0) -> None:
        """Count records of `stage` that passed without a `record` block each.

        For hot loops over millions of tiny records (JDDC's 3.46M messages), where a block per
        record costs as much as the parsing: the loop parses directly, reports each failure with
        `reject`, and counts the rest here, so `in == out + dead + filtered` still holds."""
        sc = self.stages[stage]
        sc.records_in += out + filtered
        sc.records_out += out
        sc.records_filtered += filtered
        self._hook(stage, "in", out + filtered)
        self._hook(stage, "out", out)
        if filtered:
            self._hook(stage, "filtered", filtered)

    def reject(self, stage: str, source: str, locator: str, reason: str, raw=None, split: str = SPLIT_SHARED) -> None:
        """Dead-letter something that never became a record (an unreadable file, a dangling reference)."""
        self._next_id += 1
        self._count(stage, "in")
        self._dead(_Record(stage, source, str(locator), split, raw, record_id=self._next_id), reason)

    def expect(self, namespace: str, key: str, stage: str, source: str, locator: str, raw=None) -> None:
        """Declare that some shard must `claim(namespace, key)`, else a dead letter is written.

        This is how cross-shard references (a state or annotation naming a dialog) are checked
        without loading every dialog into one place."""
        from pipelines.core.paths import relative_to

        self.expected.append(
            (namespace, key, stage, relative_to(source, self.roots), relative_to(str(locator), self.roots), excerpt_of(raw))
        )

    def claim(self, namespace: str, key: str) -> None:
        self.claimed.add((namespace, key))

    def read(self, unit) -> bytes:
        """Read a work unit's bytes and record their checksum for the manifest."""
        from pipelines.core import io

        data = io.read_range(unit.path, unit.start, unit.end)
        self.sources.append({"path": unit.locator, "bytes": len(data), "sha256": io.sha256_hex(data)})
        return data

    def add_stat(self, name: str, value: float = 1) -> None:
        self.stats[name] += value

    # -- used by the writer when a row does not fit its schema ----------------------------
    def demote(self, record_id: int, reason: str) -> None:
        """Turn an already committed record into a dead letter (its rows are dropped by the caller)."""
        self.demoted_ids.add(record_id)
        stage, source, locator, split, raw = self.records[record_id]
        self.stages[stage].records_out -= 1
        self._hook(stage, "out", -1)
        self._dead(_Record(stage, source, locator, split, raw, record_id=record_id), reason, count_in=False)

    # -- internals -----------------------------------------------------------------------
    def _commit(self, rec: _Record) -> None:
        self.records[rec.record_id] = (rec.stage, rec.source, rec.locator, rec.split, excerpt_of(rec.raw))
        for table, row in rec.rows:
            self._append(table, row, rec.record_id)

    def _append(self, table: str, row: dict, record_id: int) -> None:
        rows = self.rows[table]
        rows.append(row)
        self.row_records[table].append(record_id)
        if self._on_batch is not None and len(rows) >= self._batch_rows:
            self._flush(table)

    def _flush(self, table: str) -> None:
        rows, ids = self.rows.pop(table, []), self.row_records.pop(table, [])
        if rows and self._on_batch is not None:
            self._on_batch(table, rows, ids)

    def _dead(self, rec: _Record, reason: str, count_in: bool = True) -> None:
        from pipelines.core.paths import relative_text, relative_to

        self._count(rec.stage, "dead")
        self.dead_letters.append(
            {
                "dataset": self.dataset,
                "split": rec.split,
                "stage": rec.stage,
                "source": relative_to(rec.source, self.roots),
                "locator": relative_to(rec.locator, self.roots),
                "reason": relative_text(reason, self.roots),
                "excerpt": excerpt_of(rec.raw),
            }
        )

    def _count(self, stage: str, kind: str) -> None:
        sc = self.stages[stage]
        if kind == "in":
            sc.records_in += 1
        elif kind == "out":
            sc.records_out += 1
        elif kind == "filtered":
            sc.records_filtered += 1
        else:
            sc.records_dead += 1
        self._hook(stage, kind, 1)
