"""Tasks as mmdial sees them: a content-hash identity, the data shown, the pre-fill, and the inputs they come from.

Task identity is a hash of what the task asks (flow, unit, and the content shown: texts, image ids,
pre-filled values), never of server ids or of how an image is delivered (store URL or http URL). Pushing
the same Parquet twice therefore finds every task already there, and a restart mid-push can be
resumed by comparing keys with the server.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq

KEY_FIELD = "mmdial_key"  # fields mmdial adds to every task's data
UNIT_FIELD = "mmdial_unit"
SESSION_FIELD = "mmdial_session"
GROUP_FIELD = "mmdial_group"
ROUND_FIELD = "mmdial_round"
SUPERSEDED_FIELD = "mmdial_superseded"
FLOW_FIELD = "mmdial_flow"
#: the model version of every mmdial pre-fill: the editor pre-fills only predictions of the project's model version
PREFILL_MODEL_VERSION = "mmdial"


def canonical_json(obj) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_key(flow: str, identity: dict) -> str:
    return hashlib.sha256(canonical_json({"flow": flow, "task": identity}).encode()).hexdigest()


@dataclass(frozen=True)
class TaskSpec:
    """One task to push: `unit` names what is annotated, `session` what groups of 100 count."""

    flow: str
    unit: str
    session: str
    identity: dict
    data: dict
    prefill: list[dict] | None = None
    prefill_source: str | None = None
    key: str = field(default="")
    #: the images the task shows: (image_id or URL, privacy_status or None when unknown)
    images: tuple[tuple[str, str | None], ...] = ()
    #: image ids its turns reference that the inputs do not hold (not shown; part of the identity)
    images_missing: tuple[str, ...] = ()

    def __post_init__(self):
        if not self.key:
            object.__setattr__(self, "key", content_key(self.flow, self.identity))

    def payload(self, group: int, round_: int = 1) -> dict:
        """The Label Studio task: data plus mmdial's fields (superseded: annotation id -> its QC round)."""
        data = {
            **self.data,
            KEY_FIELD: self.key,
            UNIT_FIELD: self.unit,
            SESSION_FIELD: self.session,
            GROUP_FIELD: group,
            ROUND_FIELD: round_,
            FLOW_FIELD: self.flow,
            SUPERSEDED_FIELD: {},
        }
        task: dict = {"data": data}
        if self.prefill:
            # where a pre-fill came from (gold, predicted, carried) is in `mmdial_prefill_source`
            task["predictions"] = [{"model_version": PREFILL_MODEL_VERSION, "result": self.prefill}]
            data["mmdial_prefill_source"] = self.prefill_source or "prefill"
        return task


@dataclass
class BuildResult:
    """Tasks built from the inputs, and the input records that could not become tasks (with why)."""

    tasks: list[TaskSpec] = field(default_factory=list)
    dead: list[dict] = field(default_factory=list)
    records_in: int = 0
    already_annotated: int = 0  # input records left out because they carry an annotation already

    def reject(self, source: str, locator: str, reason: str, excerpt=None) -> None:
        self.dead.append(
            {"source": source, "locator": locator, "reason": reason, "excerpt": None if excerpt is None else str(excerpt)[:500]}
        )


# -- inputs ---------------------------------------------------------------------------------
def _table_name(schema: pa.Schema) -> str | None:
    from schemas.registry import version_of

    v = version_of(schema)
    return v[0] if v else None


class InputError(ValueError):
    """An input that is not what the command needs (a file that is not Parquet, a missing path); one line."""


def load_tables(*paths: str) -> dict[str, pa.Table]:
    """Tables from build output folders (`<dir>/<table>/*.parquet`) or single Parquet files.

    A single file is named by its `mmdial.schema` metadata (or its parent folder / file stem).
    """
    parts: dict[str, list[pa.Table]] = {}
    for path in paths:
        if not path:
            continue
        if os.path.isdir(path):
            files = sorted(glob.glob(os.path.join(path, "*", "*.parquet"))) + sorted(glob.glob(os.path.join(path, "*.parquet")))
        elif os.path.exists(path):
            files = [path]
        else:
            raise InputError(f"{path}: no such file or folder")
        if not files:
            raise InputError(f"{path}: no Parquet files in this folder (expected a build output or <table>/*.parquet)")
        for f in files:
            if os.path.basename(f).startswith("."):
                continue
            try:
                t = pq.read_table(f)
            except (pa.ArrowInvalid, OSError) as exc:
                raise InputError(f"{f}: not a readable Parquet file ({' '.join(str(exc).split())[:160]})") from None
            name = _table_name(t.schema) or (
                os.path.basename(os.path.dirname(f)) if os.path.dirname(f) != path.rstrip("/") else os.path.splitext(os.path.basename(f))[0]
            )
            parts.setdefault(name, []).append(t)
    return {name: pa.concat_tables(ts, promote_options="default") if len(ts) > 1 else ts[0] for name, ts in parts.items()}


def load_records(path: str) -> list[dict]:
    """Rows of a Parquet file or a JSON Lines file (e.g. privacy candidates)."""
    if path.endswith(".parquet") or os.path.isdir(path):
        tables = load_tables(path)
        return [r for t in tables.values() for r in t.to_pylist()]
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                out.append(json.loads(line))
    return out


def sessions(turns: pa.Table) -> dict[str, list[dict]]:
    """dialog_id -> its turns in turn_index order."""
    out: dict[str, list[dict]] = {}
    for row in turns.to_pylist():
        out.setdefault(row["dialog_id"], []).append(row)
    for rows in out.values():
        rows.sort(key=lambda r: r["turn_index"])
    return dict(sorted(out.items()))


def image_index(images: pa.Table | None) -> dict[str, dict]:
    if images is None:
        return {}
    return {r["image_id"]: r for r in images.to_pylist()}


def image_src(row: dict | None, store=None) -> str | None:
    """How a task shows an image: its http(s) URI, or a URL of the image store (never its bytes).

    `store` (annotation.images.LocalFilesStore) records the image for publication after the privacy
    gate; without one the URL is computed and nothing is recorded (offline builds)."""
    if not row:
        return None
    from annotation.images import LocalFilesStore

    return (store or LocalFilesStore()).src(row)


def turn_images(turns: list[dict], images: dict[str, dict], store=None) -> tuple[list[str], tuple, tuple]:
    """(srcs shown, ((image_id or URL, privacy_status), ...), missing image ids) for the images of `turns`.

    Images come from the `images` table (URLs of the image store, or their http(s) URI); a turn
    without image ids but with http(s) `image_refs` shows those URLs (privacy status unknown). Turns
    without images show the store's "no image" placeholder (an empty list hangs the editor).
    """
    from annotation.images import LocalFilesStore

    store = store or LocalFilesStore()
    srcs, shown, missing = [], [], []
    for t in turns:
        for iid in t.get("image_ids") or []:
            row = images.get(iid)
            src = image_src(row, store)
            if src is None:
                missing.append(iid)
                continue
            srcs.append(src)
            shown.append((iid, row.get("privacy_status")))
        if not t.get("image_ids"):
            for ref in t.get("image_refs") or []:
                if str(ref).startswith(("http://", "https://")):
                    srcs.append(str(ref))
                    shown.append((str(ref), None))
    return srcs or [store.placeholder()], tuple(shown), tuple(missing)


def render_turn(turn: dict) -> str:
    text = (turn.get("text") or "").strip()
    n_img = len(turn.get("image_ids") or turn.get("image_refs") or [])
    marks = " ".join("[image]" for _ in range(n_img))
    return " ".join(x for x in (text, marks) if x) or "[empty]"
