"""Push tasks to Label Studio and pull annotations back: content-hash identity, history, resume.

Push: the flow builds tasks from Parquet, each is checked offline against the labeling config, and
the tasks whose content hash (`mmdial_key` in the task data) the server does not hold yet are
imported in batches (annotation.importer: a server restart mid-push loses and doubles nothing).
Before anything is sent the push refuses:
- images whose `privacy_status` is not masked, manual_masked or clean (personal data must not reach
  the crowd) unless `allow_unchecked_images` (the privacy-check flow, whose purpose is to show such
  images to the privacy reviewers, is exempt);
- tasks whose turns reference images the inputs do not hold (no `images` table) unless
  `without_images`; such tasks get a different key, so a corrected push creates them with images.
It can be limited to a selection (`only`: units or sessions, e.g. an `mmdial select` proposal), and
it skips units that already have a done task on the server (their content changed since).

Pull: one export snapshot per pull (the server builds the file, we stream it to disk; no giant
paged listing), its id kept in `<out>/.pull-state.json` so a pull interrupted by a restart resumes
with the same snapshot; the snapshot is deleted on the server afterwards. The pull writes, under `--out`:

- `annotation_tasks/`, `annotation_history/`, `dead_letters/` (and `qc_samples/`, `qc_reviews/` when
  the project has a QC review project) as Parquet shards `<table>-shared-00000-of-00001.parquet`;
- the flow's docs/exchange-formats.md JSONL (`states.jsonl`, `query_rewrites.jsonl`, `discourse.jsonl`,
  `summaries.jsonl`, `privacy_manual.jsonl`) from the current annotation of each task;
- `pull.json`: counts (records in = lines' tasks + dead letters).

History is merged with the history already in `--out` and with the versions QC re-queues recorded
(annotation.versions), so versions Label Studio overwrote or a re-queue deleted stay; everything is
sorted and timestamp-free, so pulling twice from an unchanged server gives the same bytes.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import pyarrow as pa

from annotation import versions as V
from annotation.client import LSClient, ResultValidator
from annotation.flows import Flow, get_flow
from annotation.importer import import_specs
from annotation.projects import (
    DEFAULT_GROUP_SIZE,
    ProjectInfo,
    SyncError,
    check_title,
    ensure_project,
    find_project,
    open_project,
)
from annotation.tasks import (
    FLOW_FIELD,
    GROUP_FIELD,
    KEY_FIELD,
    ROUND_FIELD,
    SESSION_FIELD,
    UNIT_FIELD,
    TaskSpec,
    canonical_json,
)
from schemas.core import SPLIT_SHARED

LOG = logging.getLogger("mmdial.annotation.sync")
PULL_STATE = ".pull-state.json"
SAFE_IMAGE_STATUSES = ("masked", "manual_masked", "clean")
#: the Data Manager tab mmdial creates: of the task data only the readable `preview` column is shown
DM_VIEW = "mmdial"
PREVIEW_FIELD = "preview"
NO_STORE_HINT = (
    "images go by reference: give --data-dir of a server started here, or for a server reached by --url set "
    "$MMDIAL_LS_IMAGE_STORE (s3://bucket/prefix, or that server's local-files root as seen from here)"
)
#: task columns of the Data Manager that say nothing to an annotator (Label Studio hides them by default too)
DM_QUIET_COLUMNS = (
    "inner_id",
    "annotations_results",
    "annotations_ids",
    "predictions_score",
    "predictions_model_versions",
    "predictions_results",
    "file_upload",
    "storage_filename",
    "created_at",
    "updated_at",
    "updated_by",
    "avg_lead_time",
    "draft_exists",
)
#: shown beside the editor: the preview and how many answers a task has
DM_LABELING_COLUMNS = ("data.preview", "total_annotations")


def dm_hidden_columns(data: dict) -> dict[str, list[str]]:
    """Columns the mmdial tab hides: every task-data field but `preview` (raw JSON: EDUs, image URLs, mmdial's keys)."""
    raw = [f"data.{k}" for k in sorted(data) if k != PREVIEW_FIELD]
    system = ["id", "completed_at", "cancelled_annotations", "total_predictions", "annotators", *DM_QUIET_COLUMNS]
    return {
        "explore": raw + list(DM_QUIET_COLUMNS),
        "labeling": [c for c in raw + system + ["total_annotations"] if c not in DM_LABELING_COLUMNS],
    }


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
    not_selected: int = 0
    already_annotated: int = 0
    images_carried: int = 0
    unchecked_images: int = 0
    images_left_out: int = 0
    images_published: int = 0  # images newly written to the image store (the tasks hold their URLs)
    dead: list[dict] = field(default_factory=list)
    recoveries: int = 0
    project_created: bool = False
    warnings: list[str] = field(default_factory=list)

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


def image_safety(flow: Flow, specs: list[TaskSpec], allow_unchecked: bool, without_images: bool, report: PushReport) -> None:
    """Refuse (SyncError) what must not reach the crowd or would be pushed incomplete; warn when allowed."""
    carried = {ref: status for s in specs for ref, status in s.images}
    missing = {ref for s in specs for ref in s.images_missing}
    unsafe = sorted(ref for ref, status in carried.items() if status not in SAFE_IMAGE_STATUSES)
    report.images_carried, report.images_left_out = len(carried), len(missing)
    report.unchecked_images = 0 if flow.shows_unchecked_images else len(unsafe)
    if missing:
        n_tasks = sum(1 for s in specs if s.images_missing)
        msg = (
            f"{n_tasks} task(s) reference {len(missing)} image(s) the inputs do not hold (no `images` table in --from?)"
            if not without_images
            else f"{n_tasks} task(s) pushed without their {len(missing)} image(s) (--without-images)"
        )
        if not without_images:
            raise SyncError(msg + ": add the build's images table, or pass --without-images to push them without images")
        report.warnings.append(msg)
    if report.unchecked_images:
        statuses = sorted({str(carried[r]) for r in unsafe})
        msg = f"{len(unsafe)} image(s) with privacy_status {'/'.join(statuses)} (not masked, manual_masked or clean)"
        if not allow_unchecked:
            raise SyncError(
                msg + " would go to the crowd: run the privacy stage first (`mmdial mask`, then the privacy_check flow and"
                " `mmdial mask-manual` for the images it left unmasked), or pass --allow-unchecked-images"
            )
        report.warnings.append(msg + " pushed to the crowd (--allow-unchecked-images)")
    for w in report.warnings:
        LOG.warning("%s", w)


def publish_images(client: LSClient, project_id: int, store, specs: list[TaskSpec], report: PushReport) -> None:
    """Write the images of the tasks about to be imported into the store (after the privacy gate) and
    attach the store's folder to the project as a local-files storage, so Label Studio serves them."""
    from annotation.images import ImageStoreError

    refs = _store_refs(specs)
    if not refs and not store.needs_placeholder:
        return
    try:
        report.images_published = store.publish(refs)
    except (ImageStoreError, OSError) as exc:
        raise SyncError(f"{exc}; {NO_STORE_HINT}") from None
    store.attach(client, project_id)


def _store_refs(specs: list[TaskSpec]) -> set[str]:
    """Image ids the tasks show from the store (http(s) URLs are shown as they are)."""
    return {ref for s in specs for ref, _status in s.images if not str(ref).startswith(("http://", "https://"))}


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
    only: set[str] | None = None,
    allow_unchecked_images: bool = False,
    without_images: bool = False,
    image_store=None,
    group_of: Callable[[TaskSpec], int] | None = None,
    round_of: Callable[[TaskSpec], int] | None = None,
) -> PushReport:
    """Push a flow's tasks built from `tables`; safe to repeat and to resume after a server restart.

    Images go by reference: `image_store` (default: the client's, the server's local-files root) gets
    the images of the tasks that pass the privacy gate, and the tasks hold their URLs. `group_of` and
    `round_of` fix a task's QC group and round (default: groups of `group_size` in push order, round 1);
    the masked-image acceptance check (annotation.acceptance) groups images itself."""
    from annotation.images import LocalFilesStore

    options = dict(options or {})
    store = image_store or client.image_store() or LocalFilesStore()  # the last: URLs only, fails below if images must go
    options["image_store"] = store
    flow = get_flow(flow_name)
    info = find_project(client, project)
    if info is not None:
        if info.flow != flow.name:
            raise SyncError(f"project {project!r} is a {info.flow} project, not {flow.name}")
        params = info.params
    else:
        check_title(project)
        params = {**flow.params(tables), **(options.pop("params", None) or {})}
    config = flow.label_config(params)
    validator = ResultValidator(config)  # offline validation before anything is sent
    built = flow.build(tables, params, options)
    report = PushReport(project, flow.name, records_in=built.records_in, dead=list(built.dead), already_annotated=built.already_annotated)
    specs: list[TaskSpec] = []
    seen: set[str] = set()
    for spec in built.tasks:
        if only is not None and spec.unit not in only and spec.session not in only:
            report.not_selected += 1
            continue
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
    image_safety(flow, specs, allow_unchecked_images, without_images, report)
    if _store_refs(specs) or (store.needs_placeholder and specs):
        if not store.writable:  # known before anything is created on the server
            raise SyncError(f"no image store for {len(_store_refs(specs))} image(s): {NO_STORE_HINT}")
    info, report.project_created = ensure_project(client, project, flow.name, params, config, group_size, flow.empty_is_answer)
    server_tasks = client.list_tasks(info.id)
    known = {t["data"][KEY_FIELD]: t["data"] for t in server_tasks if KEY_FIELD in t["data"]}
    done_units = {t["data"].get(UNIT_FIELD) for t in server_tasks if KEY_FIELD in t["data"] and V.task_status(t) == "done"}
    fresh = [s for s in specs if s.key not in known and s.unit in done_units]
    report.already_annotated += len(fresh)
    specs = [s for s in specs if not (s.key not in known and s.unit in done_units)]
    report.tasks = len(specs)
    groups = assign_groups(specs, {d[SESSION_FIELD]: int(d[GROUP_FIELD]) for d in known.values() if SESSION_FIELD in d}, info.group_size)
    report.already_there = sum(1 for s in specs if s.key in known)
    publish_images(client, info.id, store, specs, report)
    if specs:
        client.ensure_view(info.id, DM_VIEW, dm_hidden_columns(specs[0].payload(0)["data"]))
    report.created, report.recoveries = import_specs(
        client, info.id, specs, group_of or (lambda s: groups[s.session]), known, batch_size, max_recoveries, on_batch, round_of
    )
    return report


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


def _read_previous_history(out: str) -> list[dict]:
    from pipelines.core.parquet import shard_path

    path = shard_path(out, "annotation_history", SPLIT_SHARED, 0, 1)
    if not os.path.exists(path):
        return []
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


def _user(users: dict[int, str], uid) -> str | None:
    return None if uid is None else users.get(uid, str(uid))


def build_pull_tables(project: ProjectInfo, flow: Flow, tasks: list[dict], users: dict[int, str], previous_history: list[dict]) -> dict:
    """Pure part of a pull: tables, export lines and dead letters from the server's tasks."""
    task_rows, dead = [], []
    by_key = {t["data"][KEY_FIELD]: t for t in tasks if KEY_FIELD in t.get("data", {})}
    # history: previous pulls' rows (kept) + the versions re-queues recorded + what the server holds now
    rows: dict[tuple, dict] = {}
    for row in previous_history:
        if row["project"] == project.title:
            rows[(row["task_key"], row["annotation_id"], row["result_sha256"], row["updated_at"])] = dict(row)
    current: dict[str, tuple] = {}
    for key, t in by_key.items():
        data = t["data"]
        cur = V.current_annotation(t)
        if cur is not None:
            current[key] = (int(cur["id"]), V.result_hash(cur["result"]), V.iso(cur.get("updated_at") or cur.get("created_at")))
        for v in V.task_versions(t):
            rows[(key, v["annotation_id"], v["result_sha256"], v["updated_at"])] = {
                "project": project.title,
                "flow": project.flow,
                "task_key": key,
                "unit": data.get(UNIT_FIELD, ""),
                "annotation_id": v["annotation_id"],
                "annotator": _user(users, v["author"]),
                "created_at": v["created_at"],
                "updated_at": v["updated_at"],
                "lead_time_s": None if v["lead_time"] is None else float(v["lead_time"]),
                "was_cancelled": v["was_cancelled"],
                "qc_round": v["round"],
                "result_sha256": v["result_sha256"],
                "result": canonical_json(v["result"]),
            }
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
                "status": V.task_status(t),
                "identity": canonical_json({k: v for k, v in data.items() if not k.startswith("mmdial_") and not _is_blob(v)}),
            }
        )
    per_task: dict[str, list[dict]] = {}
    for row in rows.values():
        per_task.setdefault(row["task_key"], []).append(row)
    history: list[dict] = []
    for key, trows in per_task.items():
        trows.sort(key=lambda r: (r["updated_at"] or "", r["annotation_id"], r["result_sha256"]))
        V.number_versions(trows)
        for r in trows:
            r["current"] = current.get(key) == (r["annotation_id"], r["result_sha256"], r["updated_at"])
            history.append(r)
    # export: the current version of every done task
    lines_by_unit: dict[str, tuple[tuple, list[dict]]] = {}
    for key, t in sorted(by_key.items()):
        cur = V.current_annotation(t)
        if cur is None:
            continue
        row = next(r for r in per_task[key] if r["current"])
        outcome = flow.export(t["data"], cur["result"], project.params)
        for locator, reason in outcome.problems:
            dead.append(_dead(project, flow, t["data"], locator, reason, cur["result"]))
        common = {
            "annotator": row["annotator"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "lead_time_s": row["lead_time_s"],
            "version": row["version"],
        }
        lines = [{**line, **common} for line in outcome.lines]
        if not lines:
            continue
        unit = t["data"].get(UNIT_FIELD, key)
        rank = (common["updated_at"] or "", cur["id"])
        if unit in lines_by_unit:  # two tasks for one unit (its content changed between pushes): newest wins
            older, newer = sorted([lines_by_unit[unit], (rank, lines)], key=lambda x: x[0])
            lines_by_unit[unit] = newer
            dead.append(_dead(project, flow, t["data"], unit, "another task for the same unit has a newer annotation", older[1]))
        else:
            lines_by_unit[unit] = (rank, lines)
    lines = sorted((ln for _, ls in lines_by_unit.values() for ln in ls), key=flow.sort_key)
    return {"tasks": task_rows, "history": history, "lines": lines, "dead": dead}


_BLOB_PREFIXES = ("data:", "/data/local-files/", "s3://")


def _is_blob(v) -> bool:
    """Images in the task (inline bytes of older pushes, image-store URLs): not part of the identity column."""
    return (isinstance(v, str) and v.startswith(_BLOB_PREFIXES)) or (
        isinstance(v, list) and any(isinstance(x, str) and x.startswith(_BLOB_PREFIXES) for x in v)
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
    from annotation import qc
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
        # the snapshot holds every task's data (images included): it must not stay on the server
        client.delete_snapshot(info.id, sid, md5=_md5(snap_file))
    os.remove(snap_file)
    os.remove(state_path)
    return report


def _md5(path: str) -> str:
    import hashlib

    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_json(path: str):
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


__all__ = ["FLOW_FIELD", "ProjectInfo", "PullReport", "PushReport", "SyncError", "ensure_project", "open_project", "pull", "push"]
