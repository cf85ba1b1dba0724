"""The versions of a task's annotation: which one counts now, who made each, and in which QC round.

Label Studio keeps one row per annotation and overwrites it on Update; a QC re-queue deletes the
task's annotations (so that they stop counting against the project's overlap and "next task"
serves the task again) after copying each into the task's `mmdial_superseded` field with its
round, authors, times and result. From these two sources:

- the *current* annotation of a task is its latest live annotation that was not skipped, not set
  aside by a re-queue (an annotation still on the server with exactly the recorded content), and
  has a result; an empty result counts for flows where "nothing" is an answer (an empty belief
  state in `dialog_state`);
- a live annotation whose content changed since it was recorded as superseded is a fix made in
  the new round (Label Studio's Update on a re-queued task): it counts, for the round it was made in;
- each version is attributed to whoever made it: the creator (`completed_by`) for the version made
  at creation, the last editor (`updated_by`) for a version made by a later Update.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from annotation.tasks import FLOW_FIELD, ROUND_FIELD, SUPERSEDED_FIELD, canonical_json

#: an Update this soon after creation is the creation itself (Label Studio stamps both)
_SAME_VERSION_S = 1.0


def result_hash(result) -> str:
    return hashlib.sha256(canonical_json(result or []).encode()).hexdigest()


def iso(value) -> str | None:
    if value is None:
        return None
    return str(value).replace("+00:00", "Z")


def _time(value) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None


def author(a: dict):
    """The user id who made this version of an annotation."""
    created, updated = _time(a.get("created_at")), _time(a.get("updated_at"))
    editor = a.get("updated_by")
    if editor is not None and editor != a.get("completed_by") and created and updated:
        if (updated - created).total_seconds() > _SAME_VERSION_S:
            return editor
    return a.get("completed_by")


def superseded(task_data: dict) -> dict:
    sup = task_data.get(SUPERSEDED_FIELD) or {}
    return sup if isinstance(sup, dict) else {}


def record_of(a: dict, round_: int) -> dict:
    """What a re-queue keeps of an annotation it sets aside (enough to rebuild its history row)."""
    return {
        "round": int(round_),
        "completed_by": a.get("completed_by"),
        "updated_by": a.get("updated_by"),
        "created_at": iso(a.get("created_at")),
        "updated_at": iso(a.get("updated_at") or a.get("created_at")),
        "lead_time": a.get("lead_time"),
        "was_cancelled": bool(a.get("was_cancelled")),
        "result": a.get("result") or [],
    }


def set_aside(task_data: dict, a: dict) -> bool:
    """The annotation is the very one a re-queue recorded (not changed since)."""
    rec = superseded(task_data).get(str(a["id"]))
    if rec is None:
        return False
    if not isinstance(rec, dict):  # recorded by an older mmdial: round only
        return True
    return iso(a.get("updated_at") or a.get("created_at")) == rec.get("updated_at") and result_hash(a.get("result")) == result_hash(
        rec.get("result")
    )


def annotation_round(task_data: dict, a: dict) -> int:
    rec = superseded(task_data).get(str(a["id"]))
    if rec is not None and set_aside(task_data, a):
        return int(rec["round"] if isinstance(rec, dict) else rec)
    return int(task_data.get(ROUND_FIELD) or 1)


def empty_is_answer(task_data: dict) -> bool:
    from annotation.flows import FLOWS

    flow = FLOWS.get(str(task_data.get(FLOW_FIELD) or ""))
    return bool(flow and flow.empty_is_answer)


def current_annotation(task: dict) -> dict | None:
    """The annotation a task's export uses (see the module doc), or None."""
    data = task["data"]
    empty_ok = empty_is_answer(data)
    live = [
        a
        for a in task.get("annotations") or []
        if not a.get("was_cancelled") and not set_aside(data, a) and (a.get("result") or (empty_ok and a.get("result") is not None))
    ]
    if not live:
        return None
    return max(live, key=lambda a: (str(iso(a.get("updated_at") or a.get("created_at"))), a["id"]))


def task_status(task: dict) -> str:
    if current_annotation(task) is not None:
        return "done"
    return "requeued" if int(task["data"].get(ROUND_FIELD) or 1) > 1 else "todo"


def task_versions(task: dict) -> list[dict]:
    """Every version of the task's annotations mmdial knows of: recorded by re-queues and live now.

    Each: annotation_id, author (user id), created_at, updated_at, lead_time, was_cancelled, result,
    result_sha256, round, live (still on the server as this version).
    """
    data = task["data"]
    out: dict[tuple, dict] = {}
    for aid, rec in sorted(superseded(data).items()):
        if not isinstance(rec, dict):
            continue
        v = {"id": int(aid), **rec}
        out[(int(aid), result_hash(rec["result"]), rec["updated_at"])] = _version(v, int(rec["round"]), live=False)
    for a in task.get("annotations") or []:
        key = (int(a["id"]), result_hash(a.get("result")), iso(a.get("updated_at") or a.get("created_at")))
        out[key] = _version(a, annotation_round(data, a), live=True)
    return sorted(out.values(), key=lambda v: (v["updated_at"] or "", v["annotation_id"], v["result_sha256"]))


def _version(a: dict, round_: int, live: bool) -> dict:
    return {
        "annotation_id": int(a["id"]),
        "author": author(a),
        "created_at": iso(a.get("created_at")),
        "updated_at": iso(a.get("updated_at") or a.get("created_at")),
        "lead_time": a.get("lead_time"),
        "was_cancelled": bool(a.get("was_cancelled")),
        "result": a.get("result") or [],
        "result_sha256": result_hash(a.get("result")),
        "round": int(round_),
        "live": live,
    }


def number_versions(rows: list[dict]) -> None:
    """Version numbers over one task's rows sorted oldest first: only answers count (a skip is no version
    of the answer: it gets the number of the answers before it, 0 when none)."""
    n = 0
    for r in rows:
        if not r["was_cancelled"]:
            n += 1
        r["version"] = n
