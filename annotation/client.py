"""The thin adapter over label-studio-sdk 2.x: the only module that imports the SDK.

Why an adapter: the SDK broke compatibility twice (0.x `Client`, 1.x, then the generated 2.x client),
so mmdial talks to Label Studio through the few calls below, returning plain dicts, and a change of
SDK is a change of this file. Every call goes through `RetryPolicy`: connection errors and 502/503/504
are retried with backoff until a deadline (a server restart takes seconds), anything else is raised.
Non-idempotent calls (`import_tasks`) are sent once per `call`; the sync layer decides what to resend
after re-reading the server (see `annotation.sync`).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LOG = logging.getLogger("mmdial.annotation.client")
TRANSIENT_STATUS = (502, 503, 504)
#: where pushes put images: s3://bucket/prefix, or the local-files document root of a server reached by --url
IMAGE_STORE_ENV = "MMDIAL_LS_IMAGE_STORE"


class TransientError(RuntimeError):
    """The server could not be reached (or answered 502/503/504) until the retry deadline."""


class ServerDown(RuntimeError):
    """No Label Studio answers at the URL (checked once, before any work: no minutes of retries)."""


class AuthError(RuntimeError):
    """The server answers but refuses the API token."""


class RequestRefused(RuntimeError):
    """Label Studio refused a request (4xx) for a reason it explains, e.g. a too short project title."""


@dataclass
class RetryPolicy:
    deadline_s: float = 180.0
    first_wait_s: float = 0.3
    max_wait_s: float = 3.0

    def run(self, fn: Callable[[], Any], what: str, retry: bool = True) -> Any:
        start = time.monotonic()
        wait = self.first_wait_s
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn()
            except Exception as exc:  # noqa: BLE001 - classified below
                if not is_transient(exc):
                    raise
                if not retry or time.monotonic() - start > self.deadline_s:
                    raise TransientError(f"{what}: server unreachable ({type(exc).__name__}) after {attempt} attempt(s)") from exc
                LOG.warning("%s: %s, retrying in %.1fs (attempt %d)", what, type(exc).__name__, wait, attempt)
                time.sleep(wait)
                wait = min(self.max_wait_s, wait * 2)


def is_transient(exc: BaseException) -> bool:
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    if isinstance(exc, TransientError | httpx.TransportError | ConnectionError):
        return True
    if isinstance(exc, ApiError):
        return exc.status_code is None or exc.status_code in TRANSIENT_STATUS
    return False


def plain(obj: Any) -> Any:
    """SDK models (pydantic) to plain JSON-able values."""
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json", exclude_unset=False)
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [plain(v) for v in obj]
    return obj


class LSClient:
    """What mmdial needs from Label Studio, as plain dicts."""

    def __init__(
        self,
        url: str,
        token: str,
        retry: RetryPolicy | None = None,
        timeout: float = 120.0,
        connect_timeout: float = 5.0,
        state_file: str | os.PathLike | None = None,
        data_dir: str | os.PathLike | None = None,
    ):
        import httpx
        from label_studio_sdk import LabelStudio

        from annotation.state import ProjectStore, default_state_file

        self.url = url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.store = ProjectStore(state_file or default_state_file(self.url))
        self.data_dir = data_dir  # the server's data dir when it runs here (export files are removed from it)
        # a short connect timeout: a server that is down is reported in seconds, a slow export still has minutes
        http = httpx.Client(timeout=httpx.Timeout(timeout, connect=connect_timeout), follow_redirects=True)
        # max_retries=0: retries are ours (the SDK's would resend non-idempotent imports blindly)
        self._sdk = LabelStudio(base_url=self.url, api_key=token, timeout=timeout, max_retries=0, httpx_client=http)

    def _call(self, what: str, fn: Callable[[], Any], retry: bool = True) -> Any:
        from label_studio_sdk.core.api_error import ApiError

        try:
            return self.retry.run(fn, what, retry=retry)
        except ApiError as exc:
            if exc.status_code == 401:
                raise AuthError(f"{self.url} refuses the API token (401): check $MMDIAL_LS_TOKEN / the token file") from exc
            if exc.status_code is not None and 400 <= exc.status_code < 500:
                raise RequestRefused(f"{what}: Label Studio answered {exc.status_code}: {_short(exc.body)}") from exc
            raise

    def check(self) -> dict:
        """Who we are, asked once without retries: a server that is down or a wrong token fail at once."""
        try:
            return plain(self.retry.run(lambda: self._sdk.users.whoami(), "whoami", retry=False))
        except TransientError as exc:
            raise ServerDown(f"no Label Studio answers at {self.url} (is the server running? `mmdial annotate server status`)") from exc
        except Exception as exc:  # noqa: BLE001 - mapped to one-line errors
            from label_studio_sdk.core.api_error import ApiError

            if isinstance(exc, ApiError) and exc.status_code in (401, 403):
                raise AuthError(f"{self.url} refuses the API token ({exc.status_code}): check $MMDIAL_LS_TOKEN / the token file") from exc
            raise

    # -- users -----------------------------------------------------------------------------
    def whoami(self) -> dict:
        return plain(self._call("whoami", lambda: self._sdk.users.whoami()))

    def users(self) -> dict[int, str]:
        """user id -> e-mail (annotation exports name users by id)."""
        return {
            u["id"]: u.get("email") or u.get("username") or str(u["id"])
            for u in plain(self._call("users", lambda: list(self._sdk.users.list())))
        }

    def create_user(self, email: str) -> int:
        existing = {v: k for k, v in self.users().items()}
        if email in existing:
            return existing[email]
        return plain(self._call("create user", lambda: self._sdk.users.create(email=email, username=email.split("@")[0])))["id"]

    # -- projects --------------------------------------------------------------------------
    def projects(self) -> list[dict]:
        return [
            {"id": p["id"], "title": p["title"], "description": p.get("description") or "", "label_config": p.get("label_config")}
            for p in plain(self._call("list projects", lambda: list(self._sdk.projects.list(page_size=100))))
        ]

    def find_project(self, title: str) -> dict | None:
        hits = [p for p in self.projects() if p["title"] == title]
        if len(hits) > 1:
            raise RuntimeError(f"{len(hits)} Label Studio projects are titled {title!r}; rename all but one")
        return hits[0] if hits else None

    def get_project(self, project_id: int) -> dict | None:
        from label_studio_sdk.core.api_error import ApiError

        def get():
            try:
                return plain(self._sdk.projects.get(id=project_id))
            except ApiError as exc:
                if exc.status_code == 404:
                    return None
                raise

        p = self._call("get project", get)
        if p is None:
            return None
        return {"id": p["id"], "title": p["title"], "description": p.get("description") or "", "model_version": p.get("model_version")}

    def create_project(
        self, title: str, label_config: str, description: str, enable_empty_annotation: bool = False, model_version: str | None = None
    ) -> dict:
        p = plain(
            self._call(
                "create project",
                lambda: self._sdk.projects.create(
                    title=title,
                    label_config=label_config,
                    description=description,
                    enable_empty_annotation=enable_empty_annotation,
                    show_collab_predictions=True,  # pre-fills (and a re-queued task's rejected answer) are shown
                    maximum_annotations=1,
                    **({"model_version": model_version} if model_version else {}),
                ),
                retry=False,
            )
        )
        return {"id": p["id"], "title": p["title"], "description": p.get("description") or "", "label_config": p.get("label_config")}

    # -- image store -----------------------------------------------------------------------
    def image_store(self):
        """The store pushes write images into: `$MMDIAL_LS_IMAGE_STORE` (`s3://bucket/prefix`, or the local-files
        root of a server reached by --url as seen from here), else the local-files root of the server's data dir."""
        from annotation.images import store_for
        from annotation.server import files_root

        return store_for(os.environ.get(IMAGE_STORE_ENV), files_root(self.data_dir) if self.data_dir else None)

    def ensure_local_storage(self, project_id: int, path: str) -> int:
        """A local-files storage on `path` attached to the project (Label Studio serves a file only under one)."""
        os.makedirs(path, mode=0o700, exist_ok=True)
        found = plain(self._call("list local storages", lambda: self._sdk.import_storage.local.list(project=project_id)))
        for st in found or []:
            if os.path.normpath(st.get("path") or "") == os.path.normpath(path):
                return int(st["id"])
        st = plain(
            self._call(
                "create local storage",
                lambda: self._sdk.import_storage.local.create(
                    project=project_id, path=path, title="mmdial images", use_blob_urls=True, regex_filter=r"^$"
                ),
                retry=False,
            )
        )
        return int(st["id"])

    def ensure_s3_storage(
        self,
        project_id: int,
        bucket: str,
        prefix: str,
        endpoint: str | None,
        region: str | None,
        key_id: str | None,
        secret: str | None,
        presign_ttl_min: int = 15,
    ) -> int:
        """An S3 storage (presigned URLs, never synced) attached to the project, so it serves `s3://bucket/prefix/...`."""
        found = plain(self._call("list s3 storages", lambda: self._sdk.import_storage.s3.list(project=project_id)))
        for st in found or []:
            if st.get("bucket") == bucket and (st.get("prefix") or "") == prefix:
                return int(st["id"])
        opt = {"s3endpoint": endpoint, "region_name": region, "aws_access_key_id": key_id, "aws_secret_access_key": secret}
        st = plain(
            self._call(
                "create s3 storage",
                lambda: self._sdk.import_storage.s3.create(
                    project=project_id,
                    bucket=bucket,
                    prefix=prefix,
                    presign=True,
                    presign_ttl=presign_ttl_min,
                    use_blob_urls=True,
                    regex_filter=r"^$",
                    title="mmdial images",
                    **{k: v for k, v in opt.items() if v},
                ),
                retry=False,
            )
        )
        return int(st["id"])

    def ensure_view(self, project_id: int, title: str, hidden: dict[str, list[str]]) -> None:
        """A Data Manager tab (shared by the project's members) hiding the columns `hidden` names per mode
        (`explore`: the task list, `labeling`: the list beside the editor), e.g. raw JSON task data."""
        views = plain(self._call("list views", lambda: self._sdk.views.list(project=project_id))) or []
        if any((v.get("data") or {}).get("title") == title for v in views):
            return
        data = {"title": title, "hiddenColumns": {mode: [f"tasks:{c}" for c in cols] for mode, cols in hidden.items()}}
        self._call("create view", lambda: self._sdk.views.create(project=project_id, data=data), retry=False)

    # -- tasks -----------------------------------------------------------------------------
    def list_tasks(self, project_id: int, page_size: int = 500) -> list[dict]:
        """Every task of a project with its annotations (ids, authors, times, results)."""

        def fetch():
            out = []
            for t in self._sdk.tasks.list(project=project_id, fields="all", page_size=page_size):
                t = plain(t)
                out.append(
                    {
                        "id": t["id"],
                        "data": t.get("data") or {},
                        "is_labeled": bool(t.get("is_labeled")),
                        "annotations": [_annotation(a) for a in t.get("annotations") or []],
                    }
                )
            return out

        return sorted(self._call("list tasks", fetch), key=lambda t: t["id"])

    def import_tasks(self, project_id: int, tasks: list[dict]) -> int:
        """Import a batch in one request (not retried here: the caller re-reads the server first)."""
        r = plain(
            self._call(
                "import tasks", lambda: self._sdk.projects.import_tasks(id=project_id, request=tasks, return_task_ids=True), retry=False
            )
        )
        return int(r.get("task_count") or 0)

    def update_task(self, task_id: int, data: dict | None = None, is_labeled: bool | None = None) -> None:
        body: dict = {}
        if data is not None:
            body["data"] = data
        if is_labeled is not None:
            body["is_labeled"] = is_labeled
        self._call("update task", lambda: self._sdk.tasks.update(id=str(task_id), **body))

    # -- annotations -----------------------------------------------------------------------
    def create_annotation(self, task_id: int, result: list[dict], lead_time: float | None = None, completed_by: int | None = None) -> dict:
        kw: dict = {"result": result}
        if lead_time is not None:
            kw["lead_time"] = lead_time
        if completed_by is not None:
            kw["completed_by"] = completed_by
        return _annotation(plain(self._call("create annotation", lambda: self._sdk.annotations.create(id=task_id, **kw), retry=False)))

    def delete_annotation(self, annotation_id: int) -> None:
        from label_studio_sdk.core.api_error import ApiError

        def delete():
            try:
                self._sdk.annotations.delete(id=annotation_id)
            except ApiError as exc:
                if exc.status_code != 404:  # already gone (an interrupted re-queue repeated)
                    raise

        self._call("delete annotation", delete)

    def create_prediction(self, task_id: int, result: list[dict], model_version: str) -> None:
        self._call(
            "create prediction", lambda: self._sdk.predictions.create(task=task_id, result=result, model_version=model_version), retry=False
        )

    def update_annotation(self, annotation_id: int, result: list[dict], lead_time: float | None = None) -> dict:
        kw: dict = {"result": result}
        if lead_time is not None:
            kw["lead_time"] = lead_time
        return _annotation(plain(self._call("update annotation", lambda: self._sdk.annotations.update(id=annotation_id, **kw))))

    # -- export snapshots ------------------------------------------------------------------
    def create_snapshot(self, project_id: int, title: str) -> int:
        return int(plain(self._call("create export snapshot", lambda: self._sdk.projects.exports.create(id=project_id, title=title)))["id"])

    def snapshot_status(self, project_id: int, snapshot_id: int) -> str | None:
        """created / in_progress / completed / failed, or None when it does not exist."""
        from label_studio_sdk.core.api_error import ApiError

        def get():
            try:
                return plain(self._sdk.projects.exports.get(id=project_id, export_pk=snapshot_id)).get("status")
            except ApiError as exc:
                if exc.status_code == 404:
                    return None
                raise

        return self._call("export snapshot status", get)

    def download_snapshot(self, project_id: int, snapshot_id: int, dest: str, chunk_size: int = 1 << 20) -> int:
        """Stream a snapshot's JSON to `dest` (written whole or not at all); returns its size."""
        import os

        def fetch():
            tmp = f"{dest}.part"
            size = 0
            with open(tmp, "wb") as fh:
                for chunk in self._sdk.projects.exports.download(
                    id=project_id, export_pk=snapshot_id, export_type="JSON", request_options={"chunk_size": chunk_size}
                ):
                    fh.write(chunk)
                    size += len(chunk)
            os.replace(tmp, dest)
            return size

        return self._call("download export snapshot", fetch)

    def delete_snapshot(self, project_id: int, snapshot_id: int, md5: str | None = None) -> list[str]:
        """Delete an export snapshot; returns the export files removed from the data dir.

        Label Studio 1.23 deletes the snapshot's record but keeps its file (the flag that would delete
        it is retired, set off): the file, named `project-<id>-at-<time>-<md5[:8]>.json`, is removed
        here when the server's data dir is known (a server of `mmdial annotate server start`).
        """
        import glob

        self._call("delete export snapshot", lambda: self._sdk.projects.exports.delete(id=project_id, export_pk=snapshot_id))
        if not self.data_dir or not md5:
            return []
        pattern = os.path.join(
            str(self.data_dir), "media", "export", str(int(project_id)), f"project-{int(project_id)}-at-*-{md5[:8]}.json"
        )
        removed = sorted(glob.glob(pattern))
        for path in removed:
            os.remove(path)
        return removed


def _annotation(a: dict) -> dict:
    keep = ("id", "completed_by", "updated_by", "result", "was_cancelled", "created_at", "updated_at", "lead_time", "task")
    out = {k: a.get(k) for k in keep}
    for k in ("completed_by", "updated_by"):
        if isinstance(out[k], dict):  # some endpoints expand the user
            out[k] = out[k].get("id")
        if isinstance(out[k], list):  # the task listing gives [{"user_id": id}]
            out[k] = out[k][0].get("user_id") if out[k] else None
    return out


def _short(body) -> str:
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False, default=str)
    return " ".join(text.split())[:300]


# -- offline checks with the SDK's label interface -----------------------------------------
class ConfigError(ValueError):
    """A labeling config, task or pre-fill that Label Studio would reject."""


def validate_label_config(config: str) -> None:
    """Validate a labeling config offline (XML schema, unique names, toName targets)."""
    from label_studio_sdk.label_interface import LabelInterface

    try:
        LabelInterface(config).validate()
    except Exception as exc:  # noqa: BLE001 - the SDK raises its own validation error types
        raise ConfigError(f"invalid labeling config: {exc}") from exc


class ResultValidator:
    """Checks task data and results (pre-fills, annotations) against one labeling config, offline."""

    def __init__(self, config: str):
        from label_studio_sdk.label_interface import LabelInterface

        validate_label_config(config)
        self._li = LabelInterface(config)

    def task_errors(self, data: dict) -> list[str]:
        return [f"task data lacks ${o.value_name}" for o in self._li.objects if o.value_is_variable and data.get(o.value_name) is None]

    def result_errors(self, result: list[dict]) -> list[str]:
        return list(self._li.validate_prediction({"result": result}, return_errors=True))
