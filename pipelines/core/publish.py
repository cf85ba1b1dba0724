"""Where an output's builds live and how one becomes visible whole (the publish protocol).

A build never writes into the folder readers use. Every run writes a complete snapshot
`<builds>/<build-id>/` (tables, dead letters, `_shards/` markers, `manifest.json`), and only after
the manifest is written and the snapshot checked does one atomic step make it the output:

- local paths: `--out OUT` is a symbolic link to `.OUT.builds/<build-id>` beside it, replaced by
  `rename(2)` of a new link over it. A reader that globs `OUT/turns/*.parquet` resolves the link
  once per path and sees the previous build or the new one, never a mix. The previous snapshot
  is kept (readers that are still reading it finish) and older ones are deleted.
- object stores (gs://, s3://: no atomic rename, no links): snapshots live in `OUT/builds/<id>/`
  and the commit is a single-object write of `OUT/CURRENT` (the id), which is atomic on those
  stores; readers go through `resolve(OUT)` (what `mmdial inspect`, `read_table` and the
  modeling readers do) or through the manifest's list of files.

The unfinished snapshot of an interrupted run is named in `<builds>/STAGING`; the next run
continues in it (resume), so after a kill -9 at any point the output still shows the last
published build and the re-run finishes the same snapshot.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
import uuid
from datetime import UTC, datetime

from pipelines.core import io
from pipelines.core.builder import UsageError
from pipelines.core.manifest import file_paths

STAGING = "STAGING"
CURRENT = "CURRENT"
MANIFEST = "manifest.json"


def new_build_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


class Store:
    """The builds of one output. `root` holds the snapshots, the lock and the staging pointer."""

    def __init__(self, out: str, root: str):
        self.out = out
        self.root = root

    # -- shared ------------------------------------------------------------------------------
    def build_path(self, build_id: str) -> str:
        return io.join(self.root, build_id)

    def staging(self, fresh: bool = False) -> str:
        """The snapshot this run writes: the interrupted one if there is one, else a new one
        (always a new one with `fresh`: after a lock takeover the old holder may still write)."""
        pointer = io.join(self.root, STAGING)
        build_id = None
        if io.exists(pointer) and not fresh:
            with contextlib.suppress(OSError, ValueError):
                build_id = io.read_json(pointer)["id"]
        if not build_id or build_id == self.current_id():
            build_id = new_build_id()
            io.mkdirs(self.root)
            io.write_json_atomic(pointer, {"id": build_id})
        path = self.build_path(build_id)
        io.mkdirs(path)
        return path

    def current(self) -> str | None:
        """Path of the published snapshot, or None."""
        build_id = self.current_id()
        return self.build_path(build_id) if build_id else None

    def prune(self, build: str, manifest: dict, keep: set[str]) -> list[str]:
        """Delete files of `build` the manifest does not list (leftovers of another layout):
        after this the snapshot holds exactly the manifest's files, the manifest and `_shards/`."""
        listed = {f for splits in manifest["tables"].values() for s in splits.values() for f in file_paths(s)}
        removed = []
        for path, _ in io.list_files(build):
            rel = posixpath.relpath(path, build) if "://" not in path else path[len(build.rstrip("/")) + 1 :]
            top = rel.split("/", 1)[0]
            if rel == MANIFEST or (top == "_shards" and not posixpath.basename(rel).startswith(".tmp-")) or rel in listed or rel in keep:
                continue
            _delete(path)
            removed.append(rel)
        return removed

    def _gc(self, keep_ids: set[str]) -> None:
        """Delete snapshots other than `keep_ids` (and the staging one)."""
        from apache_beam.io.filesystems import FileSystems

        staging = None
        with contextlib.suppress(OSError, ValueError):
            staging = io.read_json(io.join(self.root, STAGING))["id"]
        # A snapshot newer than the oldest one kept may belong to a run that is still writing it
        # (one whose object-store lock was taken over after its heartbeat stalled): it is left
        # until a later publish makes it older than the kept previous build.
        oldest_kept = min((k for k in keep_ids if k[:1].isdigit()), default=None)
        for build_id in self.build_ids():
            if build_id in keep_ids or build_id == staging:
                continue
            if oldest_kept and build_id[:1].isdigit() and build_id > oldest_kept:
                continue
            with contextlib.suppress(OSError):
                if "://" in self.root:
                    FileSystems.delete([self.build_path(build_id) + "/"])
                else:
                    shutil.rmtree(self.build_path(build_id), ignore_errors=True)

    def finish(self, build_id: str, previous: str | None) -> None:
        from apache_beam.io.filesystems import FileSystems

        pointer = io.join(self.root, STAGING)
        with contextlib.suppress(OSError, ValueError):
            if io.read_json(pointer)["id"] == build_id:
                FileSystems.delete([pointer])
        self._gc({build_id} | ({previous} if previous else set()))

    # -- per storage -------------------------------------------------------------------------
    def check_usable(self) -> None:
        raise NotImplementedError

    def current_id(self) -> str | None:
        raise NotImplementedError

    def build_ids(self) -> list[str]:
        raise NotImplementedError

    def commit(self, build: str) -> None:
        """Make `build` (a finished snapshot under `root`) the output, atomically."""
        raise NotImplementedError

    def link(self, src: str, dst: str) -> None:
        """Put the bytes of `src` (a file of an earlier snapshot) at `dst` without rewriting them."""
        raise NotImplementedError


class LocalStore(Store):
    """OUT is a symbolic link to `.OUT.builds/<id>` beside it."""

    def __init__(self, out: str):
        out = os.path.abspath(out.rstrip("/") or "/")
        parent, name = os.path.split(out)
        if not name:
            raise UsageError(f"--out {out}: choose a folder below the file system root")
        super().__init__(out, os.path.join(parent, f".{name}.builds"))

    def check_usable(self) -> None:
        out = self.out
        if os.path.islink(out):
            target = os.path.realpath(out)
            if os.path.dirname(target) != os.path.realpath(self.root):
                raise UsageError(f"--out {out}: a symbolic link to {target}, not an mmdial output; choose another folder")
        elif os.path.isdir(out):
            if os.listdir(out) and not os.path.isfile(os.path.join(out, MANIFEST)):
                raise UsageError(f"--out {out}: an existing folder that is not an mmdial build; choose a new or empty folder")
        elif os.path.exists(out):
            raise UsageError(f"--out {out}: exists and is not a folder")
        parent = os.path.dirname(out)
        try:
            os.makedirs(self.root, exist_ok=True)
            probe = os.path.join(self.root, f".probe-{uuid.uuid4().hex}")
            with open(probe, "wb"):
                pass
            os.remove(probe)
        except OSError as exc:
            raise UsageError(f"--out {out}: cannot write in {parent} ({exc.strerror or exc})") from None

    def current_id(self) -> str | None:
        if not os.path.islink(self.out):
            return None
        target = os.readlink(self.out)
        return os.path.basename(target.rstrip("/")) if os.path.isdir(os.path.join(os.path.dirname(self.out), target)) else None

    def build_ids(self) -> list[str]:
        if not os.path.isdir(self.root):
            return []
        return sorted(n for n in os.listdir(self.root) if os.path.isdir(os.path.join(self.root, n)))

    def commit(self, build: str) -> None:
        parent, name = os.path.split(self.out)
        target = os.path.relpath(build, parent)
        tmp = os.path.join(parent, f".{name}.link-{uuid.uuid4().hex}")
        os.symlink(target, tmp)
        try:
            if os.path.isdir(self.out) and not os.path.islink(self.out):
                # an empty folder, or a build of the layout before snapshots: moved aside once
                legacy = os.path.join(self.root, "legacy-" + new_build_id())
                os.rename(self.out, legacy)
            os.replace(tmp, self.out)  # the commit: one rename(2)
        finally:
            if os.path.lexists(tmp):
                os.remove(tmp)
        _fsync_dir(parent)

    def link(self, src: str, dst: str) -> None:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.lexists(dst):
            os.remove(dst)
        try:
            os.link(src, dst)
        except OSError:
            shutil.copyfile(src, dst)


class ObjectStore(Store):
    """gs://, s3://, ...: snapshots under OUT/builds/, the commit is one write of OUT/CURRENT."""

    def __init__(self, out: str):
        out = out.rstrip("/")
        super().__init__(out, io.join(out, "builds"))

    def check_usable(self) -> None:
        io.mkdirs(self.root)

    def current_id(self) -> str | None:
        path = io.join(self.out, CURRENT)
        if not io.exists(path):
            return None
        return io.read_bytes(path).decode().strip() or None

    def build_ids(self) -> list[str]:
        ids = set()
        for path, _ in io.list_files(self.root, ("*/manifest.json", "*/_shards/*")):
            rel = path[len(self.root.rstrip("/")) + 1 :]
            ids.add(rel.split("/", 1)[0])
        return sorted(ids)

    def commit(self, build: str) -> None:
        io.write_bytes_atomic(io.join(self.out, CURRENT), (posixpath.basename(build.rstrip("/")) + "\n").encode())

    def link(self, src: str, dst: str) -> None:
        from apache_beam.io.filesystems import FileSystems

        if io.exists(dst):
            FileSystems.delete([dst])
        FileSystems.copy([src], [dst])


def store_for(out: str) -> Store:
    return ObjectStore(out) if "://" in out else LocalStore(out)


def resolve(out: str) -> str:
    """The folder to read the published build of `out` from."""
    if "://" in out:
        build_id = ObjectStore(out).current_id()
        return ObjectStore(out).build_path(build_id) if build_id else out
    return out


def _delete(path: str) -> None:
    from apache_beam.io.filesystems import FileSystems

    with contextlib.suppress(OSError):
        FileSystems.delete([path])


def _fsync_dir(path: str) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
