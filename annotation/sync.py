"""Push tasks to Label Studio and pull annotations back: content-hash identity, history, resume.

Push: the flow builds tasks from Parquet, each is checked offline against the labeling config, and
the tasks whose content hash (`mmdial_key` in the task data) the server does not hold yet are
imported in batches. When the server goes away mid-push (a restart), the client waits for it,
re-reads which keys arrived (a batch may have been committed before the connection dropped) and
sends only the rest: nothing lost, nothing doubled.

Pull: one export snapshot per pull (the server builds the file, we stream it to disk; no giant
paged listing), its id kept in `<out>/.pull-state.json` so a pull interrupted by a restart resumes
with the same snapshot. The pull writes, under `--out`:

- `annotation_tasks/`, `annotation_history/`, `dead_letters/` (and `qc_samples/`, `qc_reviews/` when
  the project has a QC review project) as Parquet shards `<table>-shared-00000-of-00001.parquet`;
- the flow's docs/exchange-formats.md JSONL (`states.jsonl`, `query_rewrites.jsonl`, `discourse.jsonl`,
  `summaries.jsonl`, `privacy_manual.jsonl`) from the current annotation of each task;
- `pull.json`: counts (records in = lines' tasks + dead letters).

History is merged with the history already in `--out`, so versions Label Studio overwrote stay;
everything is sorted and timestamp-free, so pulling twice from an unchanged server gives the same bytes.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import pyarrow as pa

from annotation.client import LSClient, ResultValidator, TransientError, validate_label_config
from annotation.flows import Flow, get_flow
from annotation.tasks import (
    FLOW_FIELD,
    GROUP_FIELD,
    KEY_FIELD,
    ROUND_FIELD,
    SESSION_FIELD,
    SUPERSEDED_FIELD,
    UNIT_FIELD,
    TaskSpec,
    canonical_json,
)
from schemas.core import SPLIT_SHARED

LOG = logging.getLogger("mmdial.annotation.sync")
DESCRIPTION_TAG = "mmdial:"
DEFAULT_GROUP_SIZE = 100
PULL_STATE = ".pull-state.json"


class SyncError(RuntimeError):
    """A push or pull that cannot proceed (wrong project, invalid config)."""


# -- projects -------------------------------------------------------------------------------
@dataclass
class ProjectInfo:
    id: int
    title: str
    flow: str
    params: dict
    group_size: int = DEFAULT_GROUP_SIZE
    target: str | None = None  # for a QC review project: the project it reviews

    def description(self) -> str:
        body = {"flow": self.flow, "params": self.params, "group_size": self.group_size}
        if self.target:
            body["target"] = self.target
        return DESCRIPTION_TAG + canonical_json(body)


def parse_project(p: dict) -> ProjectInfo:
    desc = p.get("description") or ""
    if not desc.startswith(DESCRIPTION_TAG):
        raise SyncError(f"project {p['title']!r} was not created by mmdial (its description has no {DESCRIPTION_TAG} header)")
    body = json.loads(desc[len(DESCRIPTION_TAG) :])
    return ProjectInfo(
        p["id"], p["title"], body["flow"], body.get("params") or {}, int(body.get("group_size") or DEFAULT_GROUP_SIZE), body.get("target")
    )


def open_project(client: LSClient, title: str) -> ProjectInfo:
    p = client.find_project(title)
    if p is None:
        raise SyncError(f"no Label Studio project titled {title!r}")
    return parse_project(p)


def ensure_project(
    client: LSClient, title: str, flow_name: str, params: dict, label_config: str, group_size: int
) -> tuple[ProjectInfo, bool]:
    """(project, created): an existing project must belong to the same flow."""
    p = client.find_project(title)
    if p is not None:
        info = parse_project(p)
        if info.flow != flow_name:
            raise SyncError(f"project {title!r} is a {info.flow} project, not {flow_name}")
        return info, False
    validate_label_config(label_config)
    info = ProjectInfo(0, title, flow_name, params, group_size)
    p = client.create_project(title, label_config, info.description())
    info.id = p["id"]
    return info, True


# -- push -----------------------------------------------------------------------------------
@dataclass
class PushReport:
    project: str
    flow: str
    records_in: int = 0
    tasks: int = 0
    created: int = 0
    already_there: int = 0
    duplicate_in_input: int = 0
    dead: list[dict] = field(default_factory=list)
    recoveries: int = 0
    project_created: bool = False

    def summary(self) -> dict:
        d = asdict(self)
        d["dead"] = len(self.dead)
        return d


def assign_groups(specs: list[TaskSpec], known_sessions: dict[str, int], group_size: int) -> dict[str, int]:
    """session -> QC group: known sessions keep theirs, new ones continue the push order, 100 per group."""
    groups = dict(known_sessions)
    n = len(set(known_sessions))
    for spec in specs:
        if spec.session not in groups:
            groups[spec.session] = n // group_size
            n += 1
    return groups


def push(
    client: LSClient,
    flow_name: str,
    tables: dict[str, pa.Table],
    project: str,
    options: dict | None = None,
    batch_size: int = 100,
    group_size: int = DEFAULT_GROUP_SIZE,
    max_recoveries: int = 50,
    on_batch: Callable[[int, int], None] | None = None,
) -> PushReport:
    """Push a flow's tasks built from `tables`; safe to repeat and to resume after a server restart."""
    options = dict(options or {})
    flow = get_flow(flow_name)
    existing = client.find_project(project)
    if existing is not None:
        info = parse_project(existing)
        if info.flow != flow.name:
            raise SyncError(f"project {project!r} is a {info.flow} project, not {flow.name}")
        params = info.params
    else:
        params = {**flow.params(tables), **(options.pop("params", None) or {})}
    config = flow.label_config(params)
    validator = ResultValidator(config)  # offline validation before anything is sent
    built = flow.build(tables, params, options)
    report = PushReport(project, flow.name, records_in=built.records_in, dead=list(built.dead))
    specs: list[TaskSpec] = []
    seen: set[str] = set()
    for spec in built.tasks:
        errors = validator.task_errors(spec.data) + (validator.result_errors(spec.prefill) if spec.prefill else [])
        if errors:
            report.dead.append(
                {
                    "source": "push",
                    "locator": spec.unit,
                    "reason": "rejected by the labeling config: " + "; ".join(errors),
                    "excerpt": canonical_json(spec.identity)[:500],
                }
            )
        elif spec.key in seen:
            report.duplicate_in_input += 1
        else:
            seen.add(spec.key)
            specs.append(spec)
    report.tasks = len(specs)
    info, report.project_created = ensure_project(client, project, flow.name, params, config, group_size)
    known = _known_tasks(client, info.id)
    groups = assign_groups(specs, {d[SESSION_FIELD]: int(d[GROUP_FIELD]) for d in known.values() if SESSION_FIELD in d}, info.group_size)
    report.already_there = sum(1 for s in specs if s.key in known)
    report.created, report.recoveries = import_specs(
        client, info.id, specs, lambda s: groups[s.session], known, batch_size, max_recoveries, on_batch
    )
    return report


def import_specs(
    client: LSClient,
    project_id: int,
    specs: list[TaskSpec],
    group_of: Callable[[TaskSpec], int],
    known: dict[str, dict] | None = None,
    batch_size: int = 100,
    max_recoveries: int = 50,
    on_batch: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Import the specs the server lacks, in batches; (created, recoveries). Survives server restarts."""
    known = _known_tasks(client, project_id) if known is None else known
    pending = [s for s in specs if s.key not in known]
    created = recoveries = batch_no = 0
    while pending:
        batch = pending[:batch_size]
        try:
            client.import_tasks(project_id, [s.payload(group_of(s)) for s in batch])
        except TransientError as exc:
            recoveries += 1
            if recoveries > max_recoveries:
                raise
            LOG.warning("import interrupted (%s); waiting for the server, then re-reading what arrived", exc)
            client.whoami()  # retried until the server answers (or the deadline passes)
            known = _known_tasks(client, project_id)
            batch_keys = {s.key for s in batch}
            created += sum(1 for s in pending if s.key in known and s.key in batch_keys)  # committed before the drop
            pending = [s for s in pending if s.key not in known]
            continue
        created += len(batch)
        pending = pending[batch_size:]
        batch_no += 1
        if on_batch:
            on_batch(batch_no, len(pending))
    return created, recoveries


def _known_tasks(client: LSClient, project_id: int) -> dict[str, dict]:
    return {t["data"][KEY_FIELD]: t["data"] for t in client.list_tasks(project_id) if KEY_FIELD in t["data"]}


# -- pull -----------------------------------------------------------------------------------
@dataclass
class PullReport:
    project: str
    flow: str
    tasks: int = 0
    done: int = 0
    lines: int = 0
    dead: int = 0
    history_rows: int = 0
    snapshot_id: int | None = None
    snapshot_reused: bool = False
    export_file: str = ""

    def summary(self) -> dict:
        return asdict(self)


def _annotation_round(task_data: dict, annotation_id: int) -> int:
    sup = task_data.get(SUPERSEDED_FIELD) or {}
    if isinstance(sup, dict) and str(annotation_id) in sup:
        return int(sup[str(annotation_id)])
    return int(task_data.get(ROUND_FIELD) or 1)


def is_superseded(task_data: dict, annotation_id: int) -> bool:
    sup = task_data.get(SUPERSEDED_FIELD) or {}
    return isinstance(sup, dict) and str(annotation_id) in sup


def current_annotation(task: dict) -> dict | None:
    """The annotation a task's export uses: the latest submitted, not skipped, not set aside by QC."""
    live = [
        a
        for a in task.get("annotations") or []
        if not a.get("was_cancelled") and not is_superseded(task["data"], a["id"]) and a.get("result")
    ]
    if not live:
        return None
    return max(live, key=lambda a: (str(a.get("updated_at") or a.get("created_at")), a["id"]))


def task_status(task: dict) -> str:
    if current_annotation(task) is not None:
        return "done"
    return "requeued" if int(task["data"].get(ROUND_FIELD) or 1) > 1 else "todo"


def _iso(value) -> str | None:
    if value is None:
        return None
    return str(value).replace("+00:00", "Z")


def _result_hash(result) -> str:
    import hashlib

    return hashlib.sha256(canonical_json(result or []).encode()).hexdigest()


def _read_previous_history(out: str) -> list[dict]:
    from pipelines.core.parquet import shard_path

    path = shard_path(out, "annotation_history", SPLIT_SHARED, 0, 1)
    if not os.path.exists(path):
        return []
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


def build_pull_tables(project: ProjectInfo, flow: Flow, tasks: list[dict], users: dict[int, str], previous_history: list[dict]) -> dict:
    """Pure part of a pull: tables, export lines and dead letters from the server's tasks."""
    task_rows, dead = [], []
    by_key = {t["data"][KEY_FIELD]: t for t in tasks if KEY_FIELD in t.get("data", {})}
    # history: previous versions (kept) + what the server holds now
    versions: dict[tuple, dict] = {}
    for row in previous_history:
        if row["project"] == project.title:
            versions[(row["task_key"], row["annotation_id"], row["result_sha256"], row["updated_at"])] = dict(row)
    current_ids: dict[str, tuple[int, str]] = {}
    for key, t in by_key.items():
        data = t["data"]
        cur = current_annotation(t)
        if cur is not None:
            current_ids[key] = (cur["id"], _result_hash(cur["result"]))
        for a in t.get("annotations") or []:
            sha = _result_hash(a.get("result"))
            updated = _iso(a.get("updated_at") or a.get("created_at"))
            versions.setdefault(
                (key, a["id"], sha, updated),
                {
                    "project": project.title,
                    "flow": project.flow,
                    "task_key": key,
                    "unit": data.get(UNIT_FIELD, ""),
                    "annotation_id": int(a["id"]),
                    "annotator": users.get(a.get("completed_by"), None if a.get("completed_by") is None else str(a.get("completed_by"))),
                    "created_at": _iso(a.get("created_at")),
                    "updated_at": updated,
                    "lead_time_s": None if a.get("lead_time") is None else float(a["lead_time"]),
                    "was_cancelled": bool(a.get("was_cancelled")),
                    "result_sha256": sha,
                    "result": canonical_json(a.get("result") or []),
                },
            )
        task_rows.append(
            {
                "project": project.title,
                "flow": project.flow,
                "task_key": key,
                "unit": data.get(UNIT_FIELD, ""),
                "session": data.get(SESSION_FIELD, ""),
                "qc_group": int(data.get(GROUP_FIELD) or 0),
                "qc_round": int(data.get(ROUND_FIELD) or 1),
                "ls_task_id": int(t["id"]),
                "status": task_status(t),
                "identity": canonical_json({k: v for k, v in data.items() if not k.startswith("mmdial_") and not _is_blob(v)}),
            }
        )
    history: list[dict] = []
    per_task: dict[str, list[dict]] = {}
    for row in versions.values():
        per_task.setdefault(row["task_key"], []).append(row)
    for key, rows in per_task.items():
        rows.sort(key=lambda r: (r["updated_at"] or "", r["annotation_id"], r["result_sha256"]))
        data = by_key[key]["data"] if key in by_key else {}
        for i, r in enumerate(rows, start=1):
            r["version"] = i
            r["qc_round"] = _annotation_round(data, r["annotation_id"]) if data else int(r.get("qc_round") or 1)
            r["current"] = current_ids.get(key) == (r["annotation_id"], r["result_sha256"]) and r is _latest(rows, r["annotation_id"])
            history.append(r)
    # export: the current version of every done task
    lines_by_unit: dict[str, tuple[tuple, list[dict]]] = {}
    for key, t in sorted(by_key.items()):
        cur = current_annotation(t)
        if cur is None:
            continue
        hist = [r for r in per_task.get(key, []) if r["current"]]
        version = hist[0]["version"] if hist else 1
        outcome = flow.export(t["data"], cur["result"], project.params)
        for locator, reason in outcome.problems:
            dead.append(_dead(project, flow, t["data"], locator, reason, cur["result"]))
        common = {
            "annotator": users.get(cur.get("completed_by"), str(cur.get("completed_by"))),
            "created_at": _iso(cur.get("updated_at") or cur.get("created_at")),
            "lead_time_s": None if cur.get("lead_time") is None else float(cur["lead_time"]),
            "version": version,
        }
        lines = [{**line, **common} for line in outcome.lines]
        if not lines:
            continue
        unit = t["data"].get(UNIT_FIELD, key)
        rank = (common["created_at"] or "", cur["id"])
        if unit in lines_by_unit:  # two tasks for one unit (its content changed between pushes): newest wins
            older, newer = sorted([lines_by_unit[unit], (rank, lines)], key=lambda x: x[0])
            lines_by_unit[unit] = newer
            dead.append(_dead(project, flow, t["data"], unit, "another task for the same unit has a newer annotation", older[1]))
        else:
            lines_by_unit[unit] = (rank, lines)
    lines = sorted((ln for _, ls in lines_by_unit.values() for ln in ls), key=flow.sort_key)
    return {"tasks": task_rows, "history": history, "lines": lines, "dead": dead}


def _latest(rows: list[dict], annotation_id: int) -> dict:
    return [r for r in rows if r["annotation_id"] == annotation_id][-1]


def _is_blob(v) -> bool:
    return (isinstance(v, str) and v.startswith("data:")) or (
        isinstance(v, list) and any(isinstance(x, str) and x.startswith("data:") for x in v)
    )


def _dead(project: ProjectInfo, flow: Flow, data: dict, locator: str, reason: str, excerpt) -> dict:
    return {
        "dataset": data.get("dataset") or flow.name,
        "split": SPLIT_SHARED,
        "stage": f"export.{flow.name}",
        "source": project.title,
        "locator": str(locator),
        "reason": reason,
        "excerpt": canonical_json(excerpt)[:500],
    }


def pull(
    client: LSClient, project: str, out: str, on_stage: Callable[[str], None] | None = None, keep_snapshot: bool = False
) -> PullReport:
    """Export a project's annotations into `out` (see the module doc); resumable, idempotent."""
    from pipelines.core import io
    from pipelines.core.parquet import shard_path, write_table_file
    from schemas import get

    stage = on_stage or (lambda _s: None)
    info = open_project(client, project)
    flow = get_flow(info.flow)
    os.makedirs(out, exist_ok=True)
    state_path = os.path.join(out, PULL_STATE)
    state = _read_json(state_path) or {}
    report = PullReport(project, flow.name, export_file=flow.export_file)
    sid = state.get("snapshot_id") if state.get("project_id") == info.id else None
    if sid is not None and client.snapshot_status(info.id, sid) == "completed":
        report.snapshot_reused = True
    else:
        sid = client.create_snapshot(info.id, title=f"mmdial pull {project}")
        io.write_json_atomic(state_path, {"project_id": info.id, "snapshot_id": sid})
    report.snapshot_id = sid
    stage("snapshot")
    snap_file = os.path.join(out, f".snapshot-{sid}.json")
    if not os.path.exists(snap_file):
        client.download_snapshot(info.id, sid, snap_file)
    stage("downloaded")
    with open(snap_file, encoding="utf-8") as fh:
        tasks = json.load(fh)
    users = client.users()
    result = build_pull_tables(info, flow, tasks, users, _read_previous_history(out))
    tables = {"annotation_tasks": result["tasks"], "annotation_history": result["history"], "dead_letters": result["dead"]}
    from annotation import qc

    tables.update(qc.qc_tables(client, info))
    for name, rows in tables.items():
        t = get(name)
        arrow = (
            t.to_arrow(sorted(rows, key=lambda r: tuple("" if r.get(k) is None else r.get(k) for k in t.sort_key))) if rows else t.empty()
        )
        write_table_file(shard_path(out, name, SPLIT_SHARED, 0, 1), arrow)
    body = "".join(json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n" for line in result["lines"])
    io.write_bytes_atomic(os.path.join(out, flow.export_file), body.encode())
    report.tasks = len(result["tasks"])
    report.done = sum(1 for r in result["tasks"] if r["status"] == "done")
    report.lines = len(result["lines"])
    report.dead = len(result["dead"])
    report.history_rows = len(result["history"])
    summary = {k: v for k, v in report.summary().items() if k not in ("snapshot_id", "snapshot_reused")}
    io.write_json_atomic(os.path.join(out, "pull.json"), summary)
    if not keep_snapshot:
        try:
            client.delete_snapshot(info.id, sid)
        except Exception as exc:  # noqa: BLE001 - a leftover snapshot is harmless
            LOG.warning("could not delete export snapshot %s: %s", sid, type(exc).__name__)
    os.remove(snap_file)
    os.remove(state_path)
    return report


def _read_json(path: str):
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


__all__ = ["FLOW_FIELD", "ProjectInfo", "PullReport", "PushReport", "SyncError", "ensure_project", "open_project", "pull", "push"]
