"""manifest.json: what a build wrote, from what, with which options, and whether the counts add up.

It is assembled from the shard markers (complete even when a run resumed) plus this run's Beam
metrics, and written atomically at the output root.
"""

from __future__ import annotations

import hashlib
import platform
from collections import defaultdict

import pipelines
from pipelines.core import io, provenance
from schemas import get

MANIFEST = "manifest.json"


def file_paths(split_info: dict) -> list[str]:
    """The paths of one table split's files (each `files` entry is {"path", "rows", "bytes"})."""
    return [f["path"] for f in split_info["files"]]


def aggregate(markers: list[dict], references: dict) -> dict:
    # per table and split: rows, bytes and the files with their own row and byte counts
    tables: dict[str, dict[str, dict]] = defaultdict(lambda: defaultdict(lambda: {"rows": 0, "bytes": 0, "files": []}))
    stages: dict[str, dict[str, int]] = defaultdict(lambda: {"in": 0, "out": 0, "dead": 0, "filtered": 0})
    stats: dict[str, float] = defaultdict(float)
    table_stats: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    sources = []
    for m in markers:
        for table, splits in m["files"].items():
            for split, f in splits.items():
                t = tables[table][split]
                t["rows"] += f["rows"]
                t["bytes"] += f["bytes"]
                t["files"].append({"path": f["path"], "rows": f["rows"], "bytes": f["bytes"]})
        for stage, c in m["stages"].items():
            for k, v in c.items():
                stages[stage][k] += v
        for k, v in m["stats"].items():
            stats[k] += v
        for table, s in m["table_stats"].items():
            for k, v in s.items():
                table_stats[table][k] += v
        sources.extend(m["sources"])
    if references.get("file"):
        ref = {"path": references["file"], "rows": references["rows"], "bytes": references.get("bytes", 0)}
        tables["dead_letters"]["references"] = {"rows": ref["rows"], "bytes": ref["bytes"], "files": [ref]}
    for stage, c in references.get("stages", {}).items():
        for k, v in c.items():
            stages[stage][k] += v
    sources.sort(key=lambda s: s["path"])
    digest = hashlib.sha256("".join(f"{s['path']}\t{s['sha256']}\n" for s in sources).encode()).hexdigest()
    return {
        "tables": {t: {s: dict(v) for s, v in sorted(splits.items())} for t, splits in sorted(tables.items())},
        "stages": dict(sorted(stages.items())),
        "stats": dict(sorted(stats.items())),
        "table_stats": {t: dict(sorted(s.items())) for t, s in sorted(table_stats.items())},
        "sources": {"files": len(sources), "bytes": sum(s["bytes"] for s in sources), "sha256": digest},
    }


def write_manifest(builder, opts, *, markers, references, beam_metrics, options, seconds, resumed, command, out: str | None = "") -> dict:
    """Assemble the manifest; write it to `out` (default `opts.out`; None: the caller writes it)."""
    from pipelines.core.options import options_for_manifest

    agg = aggregate(markers, references)
    dead = sum(v["rows"] for v in agg["tables"].get("dead_letters", {}).values())
    # derived stages (parts of records already counted, e.g. MMD's image references) are balanced
    # and their dead letters published, but the gate's ratio is over the records read: a refused
    # part neither dilutes nor inflates it (its record was published without that part)
    derived = set(getattr(builder, "derived_stages", ()))
    records_in = sum(c["in"] for stage, c in agg["stages"].items() if stage not in derived)
    derived_dead = sum(c["dead"] for stage, c in agg["stages"].items() if stage in derived)
    balanced = all(c["in"] == c["out"] + c["dead"] + c["filtered"] for c in agg["stages"].values())
    side = {}
    for name, path in sorted(builder.side_files().items()):
        if path and io.exists(path):
            side[name] = {"path": path, "sha256": io.sha256_hex(io.read_bytes(path))}
    manifest = {
        "mmdial_version": pipelines.__version__,
        "status": "ok",
        "dataset": builder.dataset,
        "command": command,
        "build_config": builder.config(),
        "provenance": provenance.of(builder),
        "schema_versions": {t: get(t).version for t in sorted(agg["tables"])},
        "num_shards": len(markers),
        "tables": agg["tables"],
        "dead_letters": {
            "count": dead,
            "by_stage": {s: c["dead"] for s, c in agg["stages"].items() if c["dead"]},
            "derived": derived_dead,
            "ratio": round((dead - derived_dead) / records_in, 6) if records_in else 0.0,
        },
        "stages": agg["stages"],
        "counts_reconcile": balanced,
        "stats": agg["stats"],
        "table_stats": agg["table_stats"],
        "sources": {**agg["sources"], "side_files": side},
        "beam": {"runner": opts.runner, "options": options_for_manifest(options), "metrics": beam_metrics},
        "run": {
            "seconds": round(seconds, 3),
            "shards_built": len(markers) - resumed,
            "shards_resumed": resumed,
            "python": platform.python_version(),
        },
    }
    for key, value in builder.manifest_sections().items():
        manifest.setdefault(key, value)
    if out is not None:
        io.write_json_atomic(io.join(out or opts.out, MANIFEST), manifest)
    return manifest


def finalise_manifest(manifest: dict, integrity: dict, failures: list[str]) -> dict:
    """Record the publish checks: `status` is `failed` (and the build is not published) when any
    check failed; `failures` says why, one line each."""
    manifest["integrity"] = {"dangling": integrity["dangling"], "duplicates": integrity["duplicates"], "checked": integrity["checked"]}
    manifest["status"] = "failed" if failures else "ok"
    manifest["failures"] = failures
    return manifest


class NotABuild(FileNotFoundError):
    """The folder holds no published build (the CLI exits 2 with this one line)."""


def read_manifest(out: str) -> dict:
    from pipelines.core.publish import resolve

    path = io.join(resolve(out), MANIFEST)
    if not io.exists(path):
        raise NotABuild(f"no {MANIFEST} in {out}: not an mmdial build output (or no build was published there yet)")
    try:
        return io.read_json(path)
    except ValueError as exc:
        raise NotABuild(f"{path}: not a readable manifest ({exc})") from None


def content_view(manifest: dict) -> dict:
    """The parts of a manifest that must be identical across re-runs (no timings, no options)."""
    return {k: v for k, v in manifest.items() if k not in ("run", "beam", "command")}
