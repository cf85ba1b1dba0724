"""Progress: done and total per flow and per QC group, and the QC state (`mmdial annotate status`)."""

from __future__ import annotations

from annotation import qc
from annotation.client import LSClient
from annotation.projects import open_project, parse_project
from annotation.versions import task_status


def project_status(client: LSClient, project: str) -> dict:
    from annotation import acceptance

    info = open_project(client, project)
    if acceptance.is_acceptance(info):  # a sample of auto-masked images: its own acceptance state
        rep = acceptance.report(client, project)
        groups = [
            {"group": g["group"], "tasks": g["tasks"], "done": g["answered"], "round": 2 if g["requeued"] else 1, "qc": g["qc"]}
            for g in rep["groups"]
        ]
    else:
        rep = qc.report(client, project)
        groups = [{k: g[k] for k in ("group", "tasks", "done", "round", "qc")} for g in rep["groups"]]
    tasks = client.list_tasks(info.id)
    statuses = [task_status(t) for t in tasks]
    return {
        "project": project,
        "flow": rep["flow"],
        "total": len(tasks),
        "done": statuses.count("done"),
        "requeued": statuses.count("requeued"),
        "groups": groups,
    }


def overview(client: LSClient) -> list[dict]:
    """Every mmdial project on the server with its flow, done and total (review projects left out)."""
    out = []
    for p in client.projects():
        info = parse_project(client, p)
        if info is None or info.flow == qc.REVIEW_FLOW:
            continue
        statuses = [task_status(t) for t in client.list_tasks(info.id)]
        out.append(
            {
                "project": info.title,
                "flow": info.flow,
                "total": len(statuses),
                "done": statuses.count("done"),
                "requeued": statuses.count("requeued"),
            }
        )
    return sorted(out, key=lambda r: (r["flow"], r["project"]))
