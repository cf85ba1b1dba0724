"""mmdial's own record of its Label Studio projects (flow, parameters, group size), kept outside Label Studio.

Why not in Label Studio: the Community Edition has no roles, so every member of the organisation
(every annotator who signed up through the invite link) can edit every project's settings, title
and description. mmdial once kept a flow's settings in the project description, and an annotator's
edit turned a discourse project into a `summary` one. The record therefore lives in a file only
the data manager can read or write (mode 0600 in a 0700 folder):

- a server started by `mmdial annotate server start`: `DATA_DIR/mmdial/projects.json`;
- a server given by `--url`: `$MMDIAL_LS_STATE_DIR/projects.json`, default
  `~/.local/state/mmdial/label-studio/<host>_<port>/projects.json`.

Projects are found by Label Studio id, so renaming a project in the UI does not lose it; a project
created by an older mmdial (settings in its description) is adopted once, with a warning.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from urllib.parse import urlparse

LOG = logging.getLogger("mmdial.annotation.state")
STATE_DIR_ENV = "MMDIAL_LS_STATE_DIR"
FILE_NAME = "projects.json"


def default_state_file(url: str) -> Path:
    """Where the project records of the server at `url` live when no data dir is known."""
    base = os.environ.get(STATE_DIR_ENV)
    if base:
        return Path(base) / FILE_NAME
    u = urlparse(url)
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{u.hostname or 'server'}_{u.port or (443 if u.scheme == 'https' else 80)}{u.path}")
    root = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return root / "mmdial" / "label-studio" / name / FILE_NAME


class ProjectStore:
    """Project records by Label Studio project id: {"flow", "params", "group_size", "target", "title"}."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def load(self) -> dict[str, dict]:
        try:
            with open(self.path, encoding="utf-8") as fh:
                return json.load(fh).get("projects", {})
        except FileNotFoundError:
            return {}

    def get(self, project_id: int) -> dict | None:
        return self.load().get(str(project_id))

    def put(self, project_id: int, record: dict) -> None:
        projects = self.load()
        projects[str(project_id)] = record
        self._write({"projects": projects})

    def _write(self, body: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.path.parent, 0o700)
        tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False).encode())
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
