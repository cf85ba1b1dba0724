"""mmdial's Label Studio projects: found by the name mmdial gave them, settings from mmdial's own store.

A project's flow, parameters and QC group size are fixed when mmdial creates it and kept in the
data manager's project store (annotation.state), never read back from Label Studio, where every
member may edit a project's settings and description.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from annotation.client import LSClient, validate_label_config

LOG = logging.getLogger("mmdial.annotation.projects")
LEGACY_DESCRIPTION_TAG = "mmdial:"  # older mmdial kept its settings in the description
DEFAULT_GROUP_SIZE = 100


class SyncError(RuntimeError):
    """A push, pull or QC step that cannot proceed (unknown or foreign project, bad input); one line."""


# -- projects -------------------------------------------------------------------------------
@dataclass
class ProjectInfo:
    id: int
    title: str
    flow: str
    params: dict
    group_size: int = DEFAULT_GROUP_SIZE
    target: str | None = None  # for a QC review project: the project it reviews

    def record(self) -> dict:
        body = {"title": self.title, "flow": self.flow, "params": self.params, "group_size": self.group_size}
        if self.target:
            body["target"] = self.target
        return body

    def description(self) -> str:
        """What Label Studio shows: a note for people; mmdial never reads it back (see annotation.state)."""
        return f"Created by mmdial (flow {self.flow}). Its settings are kept by the data manager outside Label Studio."


MIN_TITLE, MAX_TITLE = 3, 50  # Label Studio's limits on a project title


def check_title(title: str) -> None:
    if not MIN_TITLE <= len(title) <= MAX_TITLE:
        raise SyncError(f"project name {title!r} has {len(title)} characters; Label Studio needs {MIN_TITLE} to {MAX_TITLE}")


def _legacy(p: dict) -> dict | None:
    desc = p.get("description") or ""
    if not desc.startswith(LEGACY_DESCRIPTION_TAG):
        return None
    try:
        return json.loads(desc[len(LEGACY_DESCRIPTION_TAG) :])
    except ValueError:
        return None


def parse_project(client: LSClient, p: dict) -> ProjectInfo | None:
    """mmdial's record of a Label Studio project (None: not an mmdial project)."""
    rec = client.store.get(p["id"])
    if rec is None:
        rec = _legacy(p)
        if rec is None:
            return None
        LOG.warning("project %r: adopting the settings an older mmdial kept in its description", p["title"])
        rec = {**rec, "title": p["title"]}
        client.store.put(p["id"], rec)
    return ProjectInfo(
        p["id"], p["title"], rec["flow"], rec.get("params") or {}, int(rec.get("group_size") or DEFAULT_GROUP_SIZE), rec.get("target")
    )


def find_project(client: LSClient, title: str) -> ProjectInfo | None:
    """The mmdial project titled `title` (as mmdial named it, even if renamed in Label Studio since)."""
    for pid, rec in sorted(client.store.load().items()):
        if rec.get("title") == title:
            p = client.get_project(int(pid))
            if p is not None:
                return parse_project(client, p)
    p = client.find_project(title)
    if p is None:
        return None
    info = parse_project(client, p)
    if info is None:
        raise SyncError(f"Label Studio project {title!r} was not created by mmdial (no record in {client.store.path})")
    return info


def open_project(client: LSClient, title: str) -> ProjectInfo:
    info = find_project(client, title)
    if info is None:
        raise SyncError(f"no mmdial project named {title!r} on {client.url}")
    return info


def ensure_project(
    client: LSClient, title: str, flow_name: str, params: dict, label_config: str, group_size: int, empty_is_answer: bool = False
) -> tuple[ProjectInfo, bool]:
    """(project, created): an existing project must belong to the same flow."""
    info = find_project(client, title)
    if info is not None:
        if info.flow != flow_name:
            raise SyncError(f"project {title!r} is a {info.flow} project, not {flow_name}")
        return info, False
    check_title(title)
    validate_label_config(label_config)
    info = ProjectInfo(0, title, flow_name, params, group_size)
    from annotation.tasks import PREFILL_MODEL_VERSION

    p = client.create_project(
        title, label_config, info.description(), enable_empty_annotation=empty_is_answer, model_version=PREFILL_MODEL_VERSION
    )
    info.id = p["id"]
    client.store.put(info.id, info.record())
    return info, True
