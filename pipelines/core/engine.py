"""The sharded Beam build: plan -> shards -> one DoFn call per shard -> Parquet + markers -> manifest.

Why shards of input rather than a shuffle of rows: a shard is a deterministic, balanced group of
work units (sorted by split and path, cut at equal byte counts). Only the tiny unit lists cross
the shuffle, so memory per worker is one shard's rows whatever the corpus size, the output of a
shard is identical on every run and every runner, and a finished shard leaves a marker that lets
a re-run skip it (resume) or prove it unchanged (idempotence). Cross-shard references (a dialog
state naming a dialog) are checked by a small CoGroupByKey over keys, not rows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import logging
import os
import posixpath
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import apache_beam as beam
import pyarrow as pa
from apache_beam.metrics import Metrics

from pipelines.core import io
from pipelines.core.builder import Builder, UsageError, WorkUnit
from pipelines.core.context import ShardContext
from pipelines.core.fingerprint import ContentHasher, shard_fingerprint, shared_digest
from pipelines.core.layout import deal_units
from pipelines.core.parquet import shard_path, to_arrow_checked, write_table_file
from pipelines.core.runners import dask_session, is_dask
from schemas import get
from schemas.core import SPLIT_SHARED

LOG = logging.getLogger("mmdial.build")
SHARDS_DIR = "_shards"
MANIFEST_NAME = "manifest.json"
REFERENCES_SPLIT = "references"
REJECTED_PATH = "rejected_path"  # a listed entry refused by path containment (pipelines/core/paths.py)
DUPLICATE = "duplicate"  # a content-keyed unit whose bytes an earlier unit already has
DEFAULT_SHARD_BYTES = 8 * 1024 * 1024  # keeps a worker's rows well under 1 GiB (docs/benchmarks.md)
METRICS_NAMESPACE = "mmdial"


@dataclass
class BuildOptions:
    out: str
    runner: str = "FnApiRunner"
    workers: int = 0  # 0: all cores
    shard_bytes: int = DEFAULT_SHARD_BYTES
    beam_args: list[str] = field(default_factory=list)
    max_dead_ratio: float | None = None  # None: no gate (the CLI passes --max-dead-ratio, 0.05 by default)
    progress: bool = True
    card: bool = True  # write the dataset card (README.md, statistics, plots) after the manifest


def fault_point(name: str, shard: int | None = None) -> None:
    """Fault injection for the integrity tests: `MMDIAL_FAULT=<name>` kills the process here with
    SIGKILL (no clean-up runs, exactly like kill -9). Points: planned, shard_started, shard_written, shards_done,
    manifest_written, committed (`shard_started@3`: only while building shard 3). `MMDIAL_FAULT=stop:<name>` stops the process there instead
    (SIGSTOP: it keeps its lock until the test sends SIGCONT), so races are tested deterministically."""
    spec = os.environ.get("MMDIAL_FAULT")
    if shard is not None and spec == f"{name}@{shard}":  # only the worker that builds this shard
        spec = name
    if spec in (name, f"stop:{name}"):
        import signal

        os.kill(os.getpid(), signal.SIGKILL if spec == name else signal.SIGSTOP)


# -- planning -------------------------------------------------------------------------------
def plan_shards(units: list[WorkUnit], shard_bytes: int) -> list[list[WorkUnit]]:
    """Cut units into balanced shards; the count follows from the total size (see layout.deal_units)."""
    return deal_units(units, shard_bytes)


def started_path(out: str, shard: int) -> str:
    return io.join(out, SHARDS_DIR, f"started-{shard:05d}")


class WorkerFailed(Exception):
    """The runner failed while shards were being built (a worker killed, out of memory, a bug):
    the CLI prints this one line and exits 1; the snapshot stays resumable."""


@contextlib.contextmanager
def _runner_errors():
    """While the pipeline runs, the runner's own error logs and its threads' tracebacks (hundreds
    of lines when a worker dies) are collected, not printed: the launcher reports one line."""
    seen: list[str] = []
    beam_log = logging.getLogger("apache_beam")
    level, hook = beam_log.level, threading.excepthook

    def collect(args):
        seen.append(f"{args.exc_type.__name__}: {args.exc_value}")

    beam_log.setLevel(logging.CRITICAL)
    threading.excepthook = collect
    try:
        yield seen
    finally:
        threading.excepthook = hook
        beam_log.setLevel(level)


def _worker_failure(stage: str, todo: list[int], num_shards: int, exc: BaseException, seen: list[str] = ()) -> WorkerFailed:
    unfinished = [i for i in todo if not io.exists(marker_path(stage, i, num_shards))]
    started = [i for i in unfinished if io.exists(started_path(stage, i))]
    exited = [m for m in seen if "exited with return code" in m]  # a worker process that died: its exit code says how
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    cause = (exited[0] if exited else f"{type(exc).__name__}: {lines[-1] if lines else ''}")[:300]
    code = cause.rsplit(" ", 1)[-1]
    if exited and code.lstrip("-").isdigit() and (int(code) < 0 or int(code) > 128):
        cause += f" (killed by signal {-int(code) if int(code) < 0 else int(code) - 128})"
    shards = started or unfinished
    which = f"shard {shards[0]}" if len(shards) == 1 else f"shards {shards[:10]}" + (" ..." if len(shards) > 10 else "")
    return WorkerFailed(
        f"a worker failed while building {which} (of {num_shards}); {len(unfinished)} shard(s) unfinished, re-run to resume: {cause}"
    )


def marker_path(out: str, shard: int, num_shards: int) -> str:
    return io.join(out, SHARDS_DIR, f"shard-{shard:05d}-of-{num_shards:05d}.json")


# -- the per-shard work ---------------------------------------------------------------------
def _beam_counter_hook():
    cache: dict[str, object] = {}

    def hook(stage: str, kind: str, n: int) -> None:
        name = f"{stage}.{kind}"
        counter = cache.get(name)
        if counter is None:
            counter = cache[name] = Metrics.counter(METRICS_NAMESPACE, name)
        counter.inc(n)

    return hook


def build_shard(builder: Builder, out: str, shard: int, num_shards: int, units: list[WorkUnit], fingerprint: str, hook=None) -> dict:
    """Process one shard's units and write its files and marker; returns the marker."""
    io.write_bytes_atomic(started_path(out, shard), fingerprint.encode())  # names the shard if its worker dies
    fault_point("shard_started", shard)
    layout = builder.layout()
    batches: dict[str, list[tuple[pa.Table, list[int]]]] = defaultdict(list)
    table_stats: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))

    def on_batch(table_name: str, rows: list[dict], ids: list[int]) -> None:
        if table_name not in layout:
            raise ValueError(f"{builder.dataset}: rows emitted to {table_name!r}, which is not in the builder's layout")
        for key, value in builder.table_stats(table_name, rows).items():  # stats are sums: per batch is fine
            table_stats[table_name][key] += value
        batches[table_name].append(to_arrow_checked(ctx, get(table_name), rows, ids))

    ctx = ShardContext(builder.dataset, counter_hook=hook, on_batch=on_batch, roots=getattr(builder, "input_roots", list)())
    # Rows stay alive until their batch is converted, so the cyclic garbage collector would rescan
    # a growing heap again and again; parsed rows hold no reference cycles, so it waits until the end.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for unit in units:
            if _core_unit(unit, ctx):
                continue
            try:
                builder.process(unit, ctx)
            except Exception as exc:  # noqa: BLE001 - an unreadable unit is a dead letter, not a crash
                ctx.reject("read", unit.path, unit.locator, f"{type(exc).__name__}: {exc}", split=unit.split or SPLIT_SHARED)
        ctx.flush_all()
    finally:
        ctx.detach()  # ctx <-> on_batch is a reference cycle: break it so the shard's memory goes at once
        if gc_was_enabled:
            gc.enable()
    files: dict[str, dict[str, dict]] = {}
    dead_ids = ctx.demoted_ids  # rows of records demoted by a schema error go from every table
    for table_name in sorted(layout):
        if table_name == "dead_letters":
            continue
        table = get(table_name)
        parts = batches.get(table_name, [])
        arrow = pa.concat_tables([a for a, _ in parts]) if parts else table.empty()
        if dead_ids and parts:
            keep = [rid not in dead_ids for _, ids in parts for rid in ids]
            if not all(keep):
                arrow = arrow.filter(pa.array(keep))
        arrow = _sorted(arrow, table.sort_key)
        unexpected = arrow.num_rows and set(arrow.column("split").unique().to_pylist()) - set(layout[table_name])
        if unexpected:
            raise ValueError(f"{table_name}: rows with splits {sorted(unexpected)} outside the layout {layout[table_name]}")
        for split in layout[table_name]:
            part = arrow.filter(_split_mask(arrow, split)) if arrow.num_rows else arrow
            if part.num_rows:  # no 0-row files: a split without rows in this shard has no file here
                files.setdefault(table_name, {})[split] = _write(out, table_name, split, shard, num_shards, part, fingerprint)
    table_stats = {t: {**builder.table_stats(t, []), **table_stats[t]} for t in sorted(layout) if t != "dead_letters"}
    dl_table = get("dead_letters")
    dl = _sorted(dl_table.to_arrow(ctx.dead_letters), dl_table.sort_key)
    if dl.num_rows:
        files["dead_letters"] = {SPLIT_SHARED: _write(out, "dead_letters", SPLIT_SHARED, shard, num_shards, dl, fingerprint)}
    marker = {
        "fingerprint": fingerprint,
        "shard": shard,
        "num_shards": num_shards,
        "files": files,
        "stages": {k: v.as_dict() for k, v in sorted(ctx.stages.items())},
        "stats": dict(sorted(ctx.stats.items())),
        "table_stats": table_stats,
        "sources": ctx.sources,
        "expected": sorted(ctx.expected),
        "claimed": sorted(list(c) for c in ctx.claimed),
    }
    io.write_json_atomic(marker_path(out, shard, num_shards), marker)
    fault_point("shard_written")
    return marker


def _rel(path: str, root: str) -> str:
    """A file's path relative to its snapshot (so a snapshot's markers stay valid when its files
    are linked or copied into the next snapshot)."""
    if "://" in path:
        return path[len(root.rstrip("/")) + 1 :]
    return os.path.relpath(path, root)


def _write(out: str, table: str, split: str, shard: int, num_shards: int, arrow: pa.Table, fingerprint: str) -> dict:
    path = shard_path(out, table, split, shard, num_shards, token=fingerprint)
    size = write_table_file(path, arrow)
    return {"path": _rel(path, out), "rows": arrow.num_rows, "bytes": size}


def _split_mask(arrow, split):
    import pyarrow.compute as pc

    return pc.equal(arrow.column("split"), split)


def _sorted(arrow, sort_key):
    if not sort_key or arrow.num_rows == 0:
        return arrow
    return arrow.sort_by([(k, "ascending") for k in sort_key])


def build_token(fingerprints: list[str]) -> str:
    """The content digest of a whole build (every shard's fingerprint): names the files that
    depend on all shards (the reference check's dead letters)."""
    import hashlib

    return hashlib.sha256("\n".join(fingerprints).encode()).hexdigest()


def plan_path(out: str) -> str:
    return io.join(out, SHARDS_DIR, "plan.json")


def write_plan(out: str, shards: list[list[WorkUnit]]) -> str:
    """The shards' unit lists, written once beside the output for the workers to read.

    Carrying them inside the pipeline graph would make Beam pickle and bz2-compress every unit
    into the `Create` transform, seconds of launcher time per 100k files."""
    path = plan_path(out)
    doc = {"num_shards": len(shards), "shards": [[dataclasses.astuple(u) for u in s] for s in shards]}
    io.write_bytes_atomic(path, json.dumps(doc, separators=(",", ":")).encode())
    return path


def read_plan(path: str) -> list[list[WorkUnit]]:
    return [[WorkUnit(*u) for u in s] for s in io.read_json(path)["shards"]]


class ProcessShard(beam.DoFn):
    """One call per shard. The builder's `setup` and the plan load run once per worker."""

    def __init__(self, builder: Builder, out: str, num_shards: int, plan: str):
        self.builder = builder
        self.out = out
        self.num_shards = num_shards
        self.plan = plan

    def setup(self):
        self.builder.setup()
        self.hook = _beam_counter_hook()
        self.shards = read_plan(self.plan)

    def process(self, element):
        shard, fingerprint = element
        units = self.shards[shard]
        marker = build_shard(self.builder, self.out, shard, self.num_shards, units, fingerprint, self.hook)
        yield from reference_events(marker)


def reference_events(marker: dict):
    """A shard's expectations and claims as one keyed stream: ((ns, key), expectation tuple) or
    ((ns, key), None) for a claim. One output, no tagged outputs: every runner (Dask's included)
    carries a single main output the same way."""
    for item in marker["expected"]:
        yield (item[0], item[1]), tuple(item)
    for ns, key in marker["claimed"]:
        yield (ns, key), None


def _unmatched(kv):
    _, events = kv
    events = list(events)
    outcome = "out" if any(e is None for e in events) else "dead"
    return [(outcome, e) for e in events if e is not None]


class WriteReferenceCheck(beam.DoFn):
    """Write the dead letters of references nobody claimed, and the stage counts they imply.

    Gets every outcome under one key (plus a `None` so the group exists when there are none):
    a GroupByKey, which every runner implements the same way, rather than a global combine."""

    def __init__(self, dataset: str, out: str, token: str):
        self.dataset = dataset
        self.out = out
        self.token = token  # the digest of every shard's fingerprint: this file's content follows from them

    def process(self, keyed):
        _, grouped = keyed
        stages: dict[str, dict[str, int]] = {}
        dead = []
        for outcome, (ns, key, stage, source, locator, excerpt) in sorted(r for r in grouped if r is not None):
            s = stages.setdefault(stage, {"in": 0, "out": 0, "dead": 0, "filtered": 0})
            s["in"] += 1
            s[outcome] += 1
            if outcome == "dead":
                dead.append(
                    {
                        "dataset": self.dataset,
                        "split": SPLIT_SHARED,
                        "stage": stage,
                        "source": source,
                        "locator": locator,
                        "reason": f"{ns} reference {key!r} matches nothing in the build",
                        "excerpt": excerpt,
                    }
                )
        path = shard_path(self.out, "dead_letters", REFERENCES_SPLIT, 0, 1, token=self.token)
        doc = {"stages": stages, "file": None, "rows": 0, "bytes": 0}
        if dead:  # no 0-row file when every reference resolved
            table = get("dead_letters")
            size = write_table_file(path, _sorted(table.to_arrow(dead), table.sort_key))
            doc.update(file=_rel(path, self.out), rows=len(dead), bytes=size)
        io.write_json_atomic(io.join(self.out, SHARDS_DIR, "references.json"), doc)
        yield len(dead)


def construct(
    p: beam.Pipeline,
    builder: Builder,
    todo: list[tuple[int, str]],
    num_shards: int,
    out: str,
    resumed_markers: list[dict],
    plan: str,
    token: str = "",
):
    """Add the build's transforms to `p` (no local side effects: safe on any runner)."""
    events = (
        p
        | "Shards" >> beam.Create(todo, reshuffle=False)
        | "Spread" >> beam.Reshuffle()
        | "BuildShard" >> beam.ParDo(ProcessShard(builder, out, num_shards, plan))
    )
    prior = [ev for m in resumed_markers for ev in reference_events(m)]
    outcomes = (
        (events, p | "PriorReferences" >> beam.Create(prior))
        | "AllReferences" >> beam.Flatten()
        | "JoinReferences" >> beam.GroupByKey()
        | "Outcomes" >> beam.FlatMap(_unmatched)
    )
    return (
        (outcomes, p | "NoOutcome" >> beam.Create([None]))
        | "WithSentinel" >> beam.Flatten()
        | "OneKey" >> beam.Map(lambda outcome: (0, outcome))
        | "Collect" >> beam.GroupByKey()
        | "WriteReferences" >> beam.ParDo(WriteReferenceCheck(builder.dataset, out, token))
    )


# -- the launcher ---------------------------------------------------------------------------
@dataclass
class BuildPlan:
    shards: list[list[WorkUnit]]
    fingerprints: list[str]
    todo: list[int]
    resumed: list[int]
    seeded: dict[int, str] = field(default_factory=dict)  # shard -> earlier snapshot whose files it reuses
    warnings: list[str] = field(default_factory=list)  # shown on stderr and kept in the manifest


def _reusable(root: str, shard: int, num_shards: int, fingerprint: str) -> bool:
    """A finished shard in `root` with this fingerprint whose every file is still there."""
    path = marker_path(root, shard, num_shards)
    if not io.exists(path):
        return False
    try:
        marker = io.read_json(path)
    except (OSError, ValueError):
        return False
    if marker.get("fingerprint") != fingerprint:
        return False
    return all(
        io.exists(f["path"] if "://" in f["path"] else io.join(root, f["path"]))
        for t in marker.get("files", {}).values()
        for f in t.values()
    )


def make_plan(
    builder: Builder, opts: BuildOptions, stage: str | None = None, published: str | None = None, hasher: ContentHasher | None = None
) -> BuildPlan:
    """Shards and their content fingerprints; a shard is done when `stage` (this run's snapshot,
    default `opts.out`) or the `published` snapshot already holds it with the same fingerprint."""
    io.take_rejected()
    units = builder.plan()
    if not units:
        raise UsageError(f"{builder.dataset}: nothing to build (no input files found)")
    _refuse_empty(builder, units)
    warnings = empty_side_files(builder)
    hasher = hasher or ContentHasher()
    digests = dict(zip(units, hasher.many([(u.path, u.start, u.end) for u in units])))
    units = mark_duplicates(builder, units, digests)
    units += [WorkUnit(REJECTED_PATH, path, 1, key=reason) for path, reason in sorted(io.take_rejected().items())]
    digests.update({u: "refused:" + u.key for u in units if u.kind == REJECTED_PATH})  # never read
    shards = plan_shards(units, opts.shard_bytes)
    n = len(shards)
    shared = shared_digest(builder, units, hasher)
    fps = [shard_fingerprint(builder, s, n, digests, shared) for s in shards]
    stage = stage or opts.out
    todo, resumed, seeded = [], [], {}
    for i, fp in enumerate(fps):
        if _reusable(stage, i, n, fp):
            resumed.append(i)
        elif published and published != stage and _reusable(published, i, n, fp):
            resumed.append(i)
            seeded[i] = published
        else:
            todo.append(i)
    return BuildPlan(shards, fps, todo, resumed, seeded, warnings)


def empty_side_files(builder: Builder) -> list[str]:
    """One warning per side file with no records (0 bytes, white space only, a 0-row Parquet);
    UsageError (exit 2) when the builder cannot do without it (`required_side_files`)."""
    warnings = []
    required = set(builder.required_side_files())
    for name, path in sorted(builder.side_files().items()):
        if not path or not _no_records(path):
            continue
        if name in required:
            raise UsageError(f"{builder.dataset}: the {name} file {posixpath.basename(path)} holds no records, and this build needs it")
        warnings.append(f"the {name} file {posixpath.basename(path)} holds no records: the tables built from it will be empty")
    return warnings


def _no_records(path: str) -> bool:
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq

        try:
            return pq.read_metadata(pa.BufferReader(io.read_bytes(path))).num_rows == 0
        except (OSError, ValueError, pa.ArrowException):
            return False  # unreadable: the builder's own check says why
    return _blank(WorkUnit("side", path))


def _refuse_empty(builder: Builder, units: list[WorkUnit]) -> None:
    """Exit 2 (UsageError) when the files that carry the dialogs hold nothing but white space."""
    primary = [u for u in units if u.kind in builder.primary_kinds]
    if not builder.primary_kinds or not primary:
        return
    if all(_blank(u) for u in primary):
        names = sorted({posixpath.basename(u.path) for u in primary})
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        raise UsageError(f"{builder.dataset}: the input files hold no records ({shown}: empty)")


def _blank(unit: WorkUnit) -> bool:
    """True when the unit's bytes are all white space (reads only up to the first other byte)."""
    from apache_beam.io.filesystems import FileSystems

    try:
        with FileSystems.open(unit.path, compression_type="uncompressed") as fh:
            fh.seek(unit.start)
            left = unit.end - unit.start if unit.end >= 0 else -1
            while left != 0:
                chunk = fh.read(1 << 16 if left < 0 else min(1 << 16, left))
                if not chunk:
                    return True
                if chunk.strip(b" \t\r\n\xef\xbb\xbf"):
                    return False
                left = left - len(chunk) if left > 0 else left
    except OSError:
        return False  # unreadable: the unit's own dead letter says why
    return True


def mark_duplicates(builder: Builder, units: list[WorkUnit], digests: dict[WorkUnit, str]) -> list[WorkUnit]:
    """Units of a content-keyed kind (an image file: its id is the hash of its bytes) whose bytes
    equal an earlier unit's become `duplicate` units: filtered with the kept file's name, so
    `images.image_id` stays unique across shards."""
    kinds = set(builder.content_keyed_kinds)
    if not kinds:
        return units
    first: dict[tuple[str, str], str] = {}
    out = []
    for u in sorted(units):
        if u.kind in kinds and not digests[u].startswith("unreadable:"):
            kept = first.setdefault((u.kind, digests[u]), u.path)
            if kept != u.path:
                dup = WorkUnit(DUPLICATE, u.path, u.size, u.start, u.end, u.split, json.dumps({"kind": u.kind, "of": kept}))
                digests[dup] = digests[u]
                out.append(dup)
                continue
        out.append(u)
    return out


def _core_unit(unit: WorkUnit, ctx: ShardContext) -> bool:
    """Units the core handles itself (refused paths, duplicate content); True when handled."""
    if unit.kind == REJECTED_PATH:
        ctx.reject("input_files", unit.path, unit.path, unit.key)
        return True
    if unit.kind == DUPLICATE:
        info = json.loads(unit.key)
        with ctx.record(f"{info['kind']}.duplicates", unit.path, unit.path) as rec:
            ctx.add_stat(f"{info['kind']}_duplicate_files")
            rec.filter_out()  # same bytes as info["of"]: the same id, published once
        return True
    return False


def seed_shards(store, plan: BuildPlan, stage: str) -> None:
    """Bring finished shards of the published snapshot into this run's snapshot (hard links
    locally, server-side copies on object stores); the marker comes last, so a kill in between
    only means the shard is seeded again."""
    n = len(plan.shards)
    for i, src_root in sorted(plan.seeded.items()):
        marker = io.read_json(marker_path(src_root, i, n))
        for t in marker["files"].values():
            for f in t.values():
                if "://" not in f["path"]:
                    store.link(io.join(src_root, f["path"]), io.join(stage, f["path"]))
        io.write_json_atomic(marker_path(stage, i, n), marker)


def _clear_stale(out: str, num_shards: int) -> list[str]:
    """Remove files of an earlier build with another shard layout (only files mmdial wrote)."""
    from apache_beam.io.filesystems import FileSystems

    removed = []
    spec = io.join(out, SHARDS_DIR, "shard-*-of-*.json")
    for r in FileSystems.match([spec]):
        for meta in r.metadata_list:
            if meta.path.endswith(f"-of-{num_shards:05d}.json"):
                continue
            try:
                marker = io.read_json(meta.path)
            except (OSError, ValueError):
                marker = {}
            for t in marker.get("files", {}).values():
                for f in t.values():
                    p = f["path"] if "://" in f["path"] else io.join(out, f["path"])
                    if io.exists(p):
                        FileSystems.delete([p])
                        removed.append(p)
            FileSystems.delete([meta.path])
    return removed


def _local_workers(opts: BuildOptions, shards_to_build: int) -> BuildOptions:
    """No more local worker processes than shards to build: a small build (or a resumed one with
    one shard left) runs in this process instead of paying each worker's start-up (Beam, pyarrow
    and the builder imported again). Output does not depend on the worker count."""
    from pipelines.core.options import is_local

    if not is_local(opts.runner):
        return opts
    wanted = opts.workers or os.cpu_count() or 1
    return dataclasses.replace(opts, workers=max(1, min(wanted, shards_to_build)))


@contextlib.contextmanager
def runner_session(opts: BuildOptions):
    """The build options with whatever the runner needs around the run (a Dask cluster)."""
    if not is_dask(opts.runner):
        yield opts
        return
    logging.getLogger("distributed").setLevel(logging.WARNING)
    with dask_session(opts.workers, opts.beam_args) as args:
        yield dataclasses.replace(opts, beam_args=args)


def pipeline_options(opts: BuildOptions):
    from pipelines.core.options import make_options

    return make_options(opts.runner, opts.workers, opts.beam_args)


def run_build(builder: Builder, opts: BuildOptions, command: str = "") -> dict:
    """Lock the output, build a snapshot (resuming an interrupted one, reusing unchanged shards of
    the published one), check it, and publish it whole (see pipelines/core/publish.py)."""
    from pipelines.core import publish
    from pipelines.core.fingerprint import CACHE_NAME
    from pipelines.core.lock import BuildLocked, build_lock, still_held
    from pipelines.core.phases import Phases

    phases = Phases()
    _filesystem_options(opts)
    store = publish.store_for(opts.out)
    store.check_usable()
    with build_lock(store.root, opts.out, command) as lock:
        with phases.phase("plan"):
            hasher = ContentHasher(None if "://" in store.root else io.join(store.root, CACHE_NAME))
            published = store.current()
            stage = store.staging(fresh=bool(lock.get("took_over")))  # never continue a snapshot its old holder may still write
            plan = make_plan(builder, opts, stage=stage, published=published, hasher=hasher)
            hasher.save()
        fault_point("planned")
        manifest = _build_snapshot(builder, opts, plan, store, stage, command, phases)
        if manifest["status"] == "ok":
            if not still_held(store.root, lock):
                raise BuildLocked(
                    f"--out {opts.out}: another run took the lock over while this one was building; "
                    f"its snapshot {stage} is left unpublished and nothing was deleted"
                )
            store.commit(stage)
            fault_point("committed")
            if still_held(store.root, lock):  # clean-up only under our own lock
                store.finish(posixpath.basename(stage.rstrip("/")), posixpath.basename(published.rstrip("/")) if published else None)
        return manifest


def _filesystem_options(opts: BuildOptions) -> None:
    """Give the launcher's own file access (planning, markers, manifest, commit) the Beam
    options the workers get, so object-store settings (`--s3_endpoint_url`, credentials, ...)
    hold for both."""
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import PipelineOptions

    if opts.beam_args:
        FileSystems.set_options(PipelineOptions(list(opts.beam_args)))


def _build_snapshot(builder: Builder, opts: BuildOptions, plan: BuildPlan, store, stage: str, command: str, phases=None) -> dict:
    from pipelines.core.phases import Phases

    phases = phases or Phases()
    t0 = time.time()
    with phases.phase("shards"):
        result, options = _run_shards(builder, opts, plan, store, stage)
    fault_point("shards_done")
    with phases.phase("checks"):
        manifest = _checked_manifest(builder, opts, plan, stage, command, result, options, t0)
    with phases.phase("publish"):  # the snapshot made exactly the manifest's; the commit after it is one rename or PUT
        store.prune(stage, manifest, keep=set())  # before the card: README.md and _card/ are not table files
    if opts.card and manifest["status"] == "ok":
        from pipelines.core.card import write_card

        with phases.phase("card"):
            write_card(stage, manifest)
    manifest["run"]["phases"] = phases.as_dict()
    io.write_json_atomic(io.join(stage, MANIFEST_NAME), manifest)
    fault_point("manifest_written")
    return manifest


def _run_shards(builder: Builder, opts: BuildOptions, plan: BuildPlan, store, stage: str):
    """Seed reusable shards, then run the pipeline over the rest; returns (result, options)."""
    from pipelines.core.options import make_runner
    from pipelines.core.runners import finish

    n = len(plan.shards)
    _clear_stale(stage, n)
    seed_shards(store, plan, stage)
    resumed_markers = [io.read_json(marker_path(stage, i, n)) for i in plan.resumed]
    todo = [(i, plan.fingerprints[i]) for i in plan.todo]
    plan_file = write_plan(stage, plan.shards)
    logging.getLogger("apache_beam").setLevel(logging.ERROR)
    run = _local_workers(opts, len(todo))
    with runner_session(run) as run_opts, _Progress(opts, stage, n, len(plan.resumed)):
        options = pipeline_options(run_opts)
        p = beam.Pipeline(runner=make_runner(run.runner, run.workers), options=options)
        construct(p, builder, todo, n, stage, resumed_markers, plan_file, build_token(plan.fingerprints))
        with _runner_errors() as seen:
            try:
                result = p.run()
                try:
                    result.wait_until_finish()
                finally:
                    finish(result)
            except Exception as exc:  # noqa: BLE001 - one line naming the shard, not the runner's traceback
                raise _worker_failure(stage, plan.todo, n, exc, seen) from exc
    return result, options


def _checked_manifest(builder: Builder, opts: BuildOptions, plan: BuildPlan, stage: str, command: str, result, options, t0: float) -> dict:
    """The manifest from the markers, with the publish checks' verdict (status, failures)."""
    from pipelines.core import references
    from pipelines.core.manifest import finalise_manifest, write_manifest

    n = len(plan.shards)
    metrics = _query_metrics(result)
    markers = [io.read_json(marker_path(stage, i, n)) for i in range(n)]
    refs = io.read_json(io.join(stage, SHARDS_DIR, "references.json"))
    manifest = write_manifest(
        builder,
        opts,
        markers=markers,
        references=refs,
        beam_metrics=metrics,
        options=options,
        seconds=time.time() - t0,
        resumed=len(plan.resumed),
        command=command,
        out=None,
    )
    integrity = references.check(stage, manifest, builder.references(), builder.unique_keys())
    failures = references.problems(integrity)
    ratio = manifest["dead_letters"]["ratio"]
    if opts.max_dead_ratio is not None and ratio > opts.max_dead_ratio:
        failures.insert(0, f"dead-letter ratio {ratio:.4f} is above --max-dead-ratio {opts.max_dead_ratio}")
    if not manifest["counts_reconcile"]:
        failures.append("records in != out + dead + filtered for some stage (a bug)")
    finalise_manifest(manifest, integrity, failures)
    if plan.warnings:
        manifest["warnings"] = list(plan.warnings)
    manifest["run"]["snapshot"] = stage
    return manifest


def _query_metrics(result) -> dict[str, int]:
    try:
        counters = result.metrics().query()["counters"]
    except Exception:  # noqa: BLE001 - some runners do not report metrics
        return {}
    out: dict[str, int] = {}
    for c in counters:
        if c.key.metric.namespace == METRICS_NAMESPACE:
            out[c.key.metric.name] = out.get(c.key.metric.name, 0) + int(c.committed or c.attempted or 0)
    return dict(sorted(out.items()))


class _Progress:
    """Shows shards done while the pipeline runs, by watching the markers (works on any runner)."""

    def __init__(self, opts: BuildOptions, root: str, total: int, done: int):
        self.opts, self.root, self.total, self.done = opts, root, total, done
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        if not self.opts.progress:
            return self
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("building shards"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True)
        self.task = self.bar.add_task("shards", total=self.total, completed=self.done)
        self.bar.start()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        from apache_beam.io.filesystems import FileSystems

        spec = io.join(self.root, SHARDS_DIR, f"shard-*-of-{self.total:05d}.json")
        while not self._stop.wait(0.5):
            try:
                count = sum(len(r.metadata_list) for r in FileSystems.match([spec]))
            except Exception:  # noqa: BLE001
                continue
            self.bar.update(self.task, completed=count)

    def __exit__(self, *exc):
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self.bar.stop()
        return False
