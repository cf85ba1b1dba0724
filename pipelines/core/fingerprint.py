"""Shard fingerprints over content: a shard is reused only if the bytes it was built from are the
same, not merely their sizes and times.

A shard's fingerprint covers the builder (data set, version, config, layout, schema versions),
the shard count, the sha256 of each of its units' bytes, and a *shared digest*: the sha256 of
every side file (states, url2img, image_id.json, KB, categories, movies...), of every extra
input the builder names (`shared_inputs`, e.g. SIMMC screenshots) and of every unit of the
kinds other units read across shards (`shared_kinds`, e.g. MMD images, which dialog shards hash
into `turns.image_ids`). An edit anywhere in those rebuilds every shard; an edit of one dialog
file rebuilds the shards holding it.

Hashing a corpus on every run would cost a full read, so local files keep a cache
`<builds>/hashes.json` keyed by (path, range, size, mtime_ns, ctime_ns, inode): ctime cannot be
set back by a user (`touch -d`, `os.utime`), so an edit that restores the mtime is still seen.
Object stores have no such stamp through Beam's file API, so their inputs are hashed each run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os

import pipelines
from pipelines.core import io
from pipelines.core.builder import Builder, WorkUnit
from schemas import get

CACHE_NAME = "hashes.json"
#: what the core writes for the same input (file names with content tokens, relative paths, refused
#: references left out): shards of an older core format are rebuilt, never reused or seeded
CORE_FORMAT = 2
READ_CHUNK = 1 << 22
HASH_THREADS = max(2, min(16, 2 * (os.cpu_count() or 1)))


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


class ContentHasher:
    """sha256 of a file or byte range, cached by a local file's stat stamp."""

    def __init__(self, cache_path: str | None = None):
        self.cache_path = cache_path
        self.cache: dict[str, str] = {}
        self.used: dict[str, str] = {}
        self.memo: dict[tuple[str, int, int], str] = {}
        if cache_path and os.path.isfile(cache_path):
            with contextlib.suppress(OSError, ValueError):
                self.cache = json.loads(open(cache_path, "rb").read())

    def _stamp(self, path: str, start: int, end: int) -> str | None:
        if "://" in path:
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        return f"{path}\0{start}\0{end}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}"

    def sha256(self, path: str, start: int = 0, end: int = -1) -> str:
        memo = self.memo.get((path, start, end))
        if memo is not None:  # this run hashed it already (a shared unit is hashed into every shard)
            return memo
        value = self._sha256(path, start, end)
        self.memo[(path, start, end)] = value
        return value

    def many(self, ranges: list[tuple[str, int, int]]) -> list[str]:
        """sha256 of many files or ranges: the ones not cached are read and hashed by a pool of
        threads (file reads and hashlib release the GIL), so planning a large corpus is not one
        serial pass over its bytes."""
        todo = sorted({r for r in ranges if r not in self.memo})
        if len(todo) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=min(HASH_THREADS, len(todo))) as pool:
                for r, value in zip(todo, pool.map(lambda r: self._sha256(*r), todo)):
                    self.memo[r] = value
        return [self.sha256(*r) for r in ranges]

    def _sha256(self, path: str, start: int = 0, end: int = -1) -> str:
        stamp = self._stamp(path, start, end)
        if stamp is not None and stamp in self.cache:
            self.used[stamp] = self.cache[stamp]
            return self.cache[stamp]
        h = hashlib.sha256()
        try:
            from apache_beam.io.filesystems import FileSystems

            with FileSystems.open(path, compression_type="uncompressed") as fh:
                fh.seek(start)
                left = end - start if end >= 0 else -1
                while left != 0:
                    chunk = fh.read(READ_CHUNK if left < 0 else min(READ_CHUNK, left))
                    if not chunk:
                        break
                    h.update(chunk)
                    if left > 0:
                        left -= len(chunk)
            value = h.hexdigest()
        except OSError as exc:  # a vanished or unreadable input: the shard rebuilds and dead-letters it
            value = f"unreadable:{type(exc).__name__}"
        if stamp is not None:
            self.used[stamp] = value
        return value

    def save(self) -> None:
        """Keep only the stamps this run used, so the cache does not grow without bound."""
        if not self.cache_path or "://" in self.cache_path:
            return
        with contextlib.suppress(OSError):
            io.write_bytes_atomic(self.cache_path, json.dumps(self.used, sort_keys=True).encode())


def unit_digest(hasher: ContentHasher, unit: WorkUnit) -> str:
    return hasher.sha256(unit.path, unit.start, unit.end)


def shared_digest(builder: Builder, units: list[WorkUnit], hasher: ContentHasher) -> str:
    """One digest over everything a shard may read besides its own units."""
    kinds = set(builder.shared_kinds)
    side = {name: hasher.sha256(path) for name, path in sorted(builder.side_files().items()) if path}
    extra = {path: hasher.sha256(path) for path in sorted(set(builder.shared_inputs()))}
    shared = [(u.kind, u.path, u.start, u.end, unit_digest(hasher, u)) for u in sorted(units) if u.kind in kinds]
    return _digest({"side": side, "extra": extra, "units": shared})


def shard_fingerprint(builder: Builder, units: list[WorkUnit], num_shards: int, digests: dict[WorkUnit, str], shared: str) -> str:
    """Changes when anything that decides the shard's output changes."""
    return _digest(
        {
            "dataset": builder.dataset,
            "version": pipelines.__version__,
            "core_format": CORE_FORMAT,
            "config": builder.config(),
            "layout": builder.layout(),
            "num_shards": num_shards,
            "units": [(u.kind, u.path, u.size, u.start, u.end, u.split, u.key, digests[u]) for u in units],
            "shared": shared,
            "schemas": {t: get(t).version for t in builder.layout()},
        }
    )
