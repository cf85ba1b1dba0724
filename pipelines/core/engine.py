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
import hashlib
import json
import logging
import os
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import apache_beam as beam
import pyarrow as pa
from apache_beam.metrics import Metrics

import pipelines
from pipelines.core import io
from pipelines.core.builder import Builder, UsageError, WorkUnit
from pipelines.core.context import ShardContext
from pipelines.core.layout import deal_units
from pipelines.core.parquet import shard_path, to_arrow_checked, write_table_file
from pipelines.core.runners import dask_session, is_dask
from schemas import get
from schemas.core import SPLIT_SHARED

LOG = logging.getLogger("mmdial.build")
SHARDS_DIR = "_shards"
REFERENCES_SPLIT = "references"
DEFAULT_SHARD_BYTES = 8 * 1024 * 1024  # keeps a worker's rows well under 1 GiB (docs/benchmarks.md)
METRICS_NAMESPACE = "mmdial"


@dataclass
class BuildOptions:
    out: str
    runner: str = "FnApiRunner"
    workers: int = 0  # 0: all cores
    shard_bytes: int = DEFAULT_SHARD_BYTES
    beam_args: list[str] = field(default_factory=list)
    max_dead_ratio: float = 0.05
    progress: bool = True
    card: bool = True  # write the dataset card (README.md, statistics, plots) after the manifest


# -- planning -------------------------------------------------------------------------------
def plan_shards(units: list[WorkUnit], shard_bytes: int) -> list[list[WorkUnit]]:
    """Cut units into balanced shards; the count follows from the total size (see layout.deal_units)."""
    return deal_units(units, shard_bytes)


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def shard_fingerprint(builder: Builder, units: list[WorkUnit], num_shards: int, mtimes: dict[str, float] | None = None) -> str:
    """Changes when anything that decides the shard's output changes (inputs' size or time included)."""
    mtimes = mtimes or {}
    return _digest(
        {
            "dataset": builder.dataset,
            "version": pipelines.__version__,
            "config": builder.config(),
            "layout": builder.layout(),
            "num_shards": num_shards,
            "units": [(u.kind, u.path, u.size, u.start, u.end, u.split, u.key, mtimes.get(u.path, 0.0)) for u in units],
            "schemas": {t: get(t).version for t in builder.layout()},
        }
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
    layout = builder.layout()
    batches: dict[str, list[tuple[pa.Table, list[int]]]] = defaultdict(list)
    table_stats: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))

    def on_batch(table_name: str, rows: list[dict], ids: list[int]) -> None:
        if table_name not in layout:
            raise ValueError(f"{builder.dataset}: rows emitted to {table_name!r}, which is not in the builder's layout")
        for key, value in builder.table_stats(table_name, rows).items():  # stats are sums: per batch is fine
            table_stats[table_name][key] += value
        batches[table_name].append(to_arrow_checked(ctx, get(table_name), rows, ids))

    ctx = ShardContext(builder.dataset, counter_hook=hook, on_batch=on_batch)
    # Rows stay alive until their batch is converted, so the cyclic garbage collector would rescan
    # a growing heap again and again; parsed rows hold no reference cycles, so it waits until the end.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for unit in units:
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
                files.setdefault(table_name, {})[split] = _write(out, table_name, split, shard, num_shards, part)
    table_stats = {t: {**builder.table_stats(t, []), **table_stats[t]} for t in sorted(layout) if t != "dead_letters"}
    dl_table = get("dead_letters")
    dl = _sorted(dl_table.to_arrow(ctx.dead_letters), dl_table.sort_key)
    if dl.num_rows:
        files["dead_letters"] = {SPLIT_SHARED: _write(out, "dead_letters", SPLIT_SHARED, shard, num_shards, dl)}
    _remove_dropped_files(out, marker_path(out, shard, num_shards), files)
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
    return marker


def _rel(out: str, path: str) -> str:
    return os.path.relpath(path, out) if "://" not in path else path


def _abs(out: str, path: str) -> str:
    return path if "://" in path else io.join(out, path)


def _write(out: str, table: str, split: str, shard: int, num_shards: int, arrow: pa.Table) -> dict:
    path = shard_path(out, table, split, shard, num_shards)
    size = write_table_file(path, arrow)
    return {"path": _rel(out, path), "rows": arrow.num_rows, "bytes": size}


def _remove_dropped_files(out: str, marker: str, files: dict) -> None:
    """Delete what this shard's previous marker listed and this run did not write (a split that
    has no rows any more, or a 0-row file of an older build), so no stale file stays behind."""
    if not io.exists(marker):
        return
    try:
        old = io.read_json(marker)
    except (OSError, ValueError):
        return
    keep = {f["path"] for t in files.values() for f in t.values()}
    for t in old.get("files", {}).values():
        for f in t.values():
            if f["path"] not in keep and io.exists(_abs(out, f["path"])):
                io.delete(_abs(out, f["path"]))


def _split_mask(arrow, split):
    import pyarrow.compute as pc

    return pc.equal(arrow.column("split"), split)


def _sorted(arrow, sort_key):
    if not sort_key or arrow.num_rows == 0:
        return arrow
    return arrow.sort_by([(k, "ascending") for k in sort_key])


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

    def __init__(self, dataset: str, out: str):
        self.dataset = dataset
        self.out = out

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
        path = shard_path(self.out, "dead_letters", REFERENCES_SPLIT, 0, 1)
        doc = {"stages": stages, "file": None, "rows": 0, "bytes": 0}
        if dead:
            table = get("dead_letters")
            size = write_table_file(path, _sorted(table.to_arrow(dead), table.sort_key))
            doc.update(file=_rel(self.out, path), rows=len(dead), bytes=size)
        elif io.exists(path):
            io.delete(path)  # an earlier run's dead references, all resolved now
        io.write_json_atomic(io.join(self.out, SHARDS_DIR, "references.json"), doc)
        yield len(dead)


def construct(
    p: beam.Pipeline, builder: Builder, todo: list[tuple[int, str]], num_shards: int, out: str, resumed_markers: list[dict], plan: str
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
        | "WriteReferences" >> beam.ParDo(WriteReferenceCheck(builder.dataset, out))
    )


# -- the launcher ---------------------------------------------------------------------------
@dataclass
class BuildPlan:
    shards: list[list[WorkUnit]]
    fingerprints: list[str]
    todo: list[int]
    resumed: list[int]


def make_plan(builder: Builder, opts: BuildOptions) -> BuildPlan:
    units = builder.plan()
    if not units:
        raise UsageError(f"{builder.dataset}: nothing to build (no input files found)")
    shards = plan_shards(units, opts.shard_bytes)
    n = len(shards)
    stamps = io.mtimes(sorted({u.path for u in units}))
    fps = [shard_fingerprint(builder, s, n, stamps) for s in shards]
    todo, resumed = [], []
    for i, fp in enumerate(fps):
        path = marker_path(opts.out, i, n)
        if io.exists(path):
            try:
                marker = io.read_json(path)
            except (OSError, ValueError):
                marker = {}
            files_ok = all(
                io.exists(f["path"] if "://" in f["path"] else io.join(opts.out, f["path"]))
                for t in marker.get("files", {}).values()
                for f in t.values()
            )
            if marker.get("fingerprint") == fp and files_ok:
                resumed.append(i)
                continue
        todo.append(i)
    return BuildPlan(shards, fps, todo, resumed)


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
    """Plan, run the Beam pipeline for the shards not yet done, and write manifest.json."""
    from pipelines.core.manifest import write_manifest
    from pipelines.core.options import make_runner
    from pipelines.core.runners import finish

    t0 = time.time()
    plan = make_plan(builder, opts)
    n = len(plan.shards)
    io.mkdirs(opts.out)
    _clear_stale(opts.out, n)
    resumed_markers = [io.read_json(marker_path(opts.out, i, n)) for i in plan.resumed]
    todo = [(i, plan.fingerprints[i]) for i in plan.todo]
    plan_file = write_plan(opts.out, plan.shards)
    logging.getLogger("apache_beam").setLevel(logging.ERROR)
    with runner_session(opts) as run_opts, _Progress(opts, n, len(plan.resumed)):
        options = pipeline_options(run_opts)
        p = beam.Pipeline(runner=make_runner(opts.runner, opts.workers), options=options)
        construct(p, builder, todo, n, opts.out, resumed_markers, plan_file)
        result = p.run()
        try:
            result.wait_until_finish()
        finally:
            finish(result)
    metrics = _query_metrics(result)
    markers = [io.read_json(marker_path(opts.out, i, n)) for i in range(n)]
    references = io.read_json(io.join(opts.out, SHARDS_DIR, "references.json"))
    manifest = write_manifest(
        builder,
        opts,
        markers=markers,
        references=references,
        beam_metrics=metrics,
        options=options,
        seconds=time.time() - t0,
        resumed=len(plan.resumed),
        command=command,
    )
    if opts.card:
        from pipelines.core.card import write_card

        write_card(opts.out, manifest)
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

    def __init__(self, opts: BuildOptions, total: int, done: int):
        self.opts, self.total, self.done = opts, total, done
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

        spec = io.join(self.opts.out, SHARDS_DIR, f"shard-*-of-{self.total:05d}.json")
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
