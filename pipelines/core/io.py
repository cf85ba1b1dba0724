"""File access through Beam's FileSystems, so the same code reads local paths, gs://, s3://, hdfs://.

Nothing here writes outside the output root, and every write is atomic: bytes go to a hidden
temporary name beside the target and are renamed into place.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import uuid
from collections.abc import Iterator

from apache_beam.io.filesystems import FileSystems


def join(*parts: str) -> str:
    return FileSystems.join(*parts) if len(parts) > 1 else parts[0]


def exists(path: str) -> bool:
    return FileSystems.exists(path)


def read_bytes(path: str) -> bytes:
    with FileSystems.open(path, compression_type="uncompressed") as fh:
        return fh.read()


def read_range(path: str, start: int, end: int) -> bytes:
    with FileSystems.open(path, compression_type="uncompressed") as fh:
        fh.seek(start)
        return fh.read(end - start) if end >= 0 else fh.read()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Modification times seen by the latest listing, so planning does not list every folder twice.
_LISTED_MTIMES: dict[str, float] = {}


# Entries the latest listings refused ({path: reason}: links that dangle, loop or lead outside the
# listed folder); the build core turns them into dead letters (see `take_rejected`).
_REJECTED: dict[str, str] = {}


def take_rejected() -> dict[str, str]:
    """The refused entries listed since the last call (and forget them)."""
    out = dict(_REJECTED)
    _REJECTED.clear()
    return out


def list_files(root: str, patterns: tuple[str, ...] = ("**",)) -> list[tuple[str, int]]:
    """All files under `root` matching any glob pattern, as sorted (path, size) pairs.

    A whole local folder is walked without following links out of it (pipelines/core/paths.py);
    what it refuses is kept for `take_rejected`."""
    if patterns == ("**",) and "://" not in root:
        from pipelines.core.paths import walk_local

        files, rejected = walk_local(root)
        _REJECTED.update(rejected)
        return files
    found: dict[str, int] = {}
    for pattern in patterns:
        spec = join(root.rstrip("/"), pattern)
        for result in FileSystems.match([spec]):
            for meta in result.metadata_list:
                found[meta.path] = meta.size_in_bytes
                _LISTED_MTIMES[meta.path] = float(meta.last_updated_in_seconds or 0)
    return sorted(found.items())


def mtimes(paths: list[str]) -> dict[str, float]:
    """Last-modified time of each path: from the latest `list_files`, else one listing per directory."""
    out: dict[str, float] = {p: _LISTED_MTIMES[p] for p in paths if p in _LISTED_MTIMES}
    by_dir: dict[str, set[str]] = {}
    for p in paths:
        if p not in out:
            by_dir.setdefault(posixpath.dirname(p), set()).add(p)
    for d, wanted in by_dir.items():
        for result in FileSystems.match([join(d, "*")]):
            for meta in result.metadata_list:
                if meta.path in wanted:
                    out[meta.path] = float(meta.last_updated_in_seconds or 0)
    return out


def mkdirs(path: str) -> None:
    try:
        FileSystems.mkdirs(path)
    except OSError:
        pass  # already there (local FS raises; object stores have no directories)


def delete(path: str) -> None:
    FileSystems.delete([path])


def write_bytes_atomic(path: str, data: bytes) -> None:
    """Readers see the old bytes or the new ones, never none and never a part, at every moment.

    Object stores: one write of the object (a PUT, or a multipart upload completed at close, is
    atomic and replaces the old object in one step; a rename there is a copy plus a delete, and
    deleting first would leave a window with no object). Local files: a temporary file, then
    `os.replace`, one rename(2) over the old file."""
    if "://" in path:
        with FileSystems.create(path) as fh:
            fh.write(data)
        return
    parent, name = posixpath.split(path)
    mkdirs(parent)
    tmp = join(parent, f".tmp-{uuid.uuid4().hex}-{name}")
    with FileSystems.create(tmp) as fh:
        fh.write(data)
    os.replace(tmp, path)


def write_json_atomic(path: str, obj) -> None:
    write_bytes_atomic(path, (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode())


def read_json(path: str):
    return json.loads(read_bytes(path))


UTF8_BOM = b"\xef\xbb\xbf"


def iter_lines(data: bytes, base_line: int = 0) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, line without newline) for each line of `data`. At the start of a
    file (`base_line` 0) a UTF-8 byte-order mark is dropped: it is encoding, not content."""
    if base_line == 0 and data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    for i, line in enumerate(io.BytesIO(data), start=base_line + 1):
        yield i, line.rstrip(b"\r\n")
