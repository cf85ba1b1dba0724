"""One build at a time per output: an exclusive lock beside the output's builds.

Local paths use `fcntl.flock` on `<builds>/lock`: the kernel releases it when the holder exits,
however it exits (kill -9 included), so a stale lock never blocks the next run; the file's text
(pid, host, start time, command) only names the holder in the error. Object stores have no
locks: there the lock is an object holding the same text plus a heartbeat the holder rewrites
every `HEARTBEAT_S`; a lock whose heartbeat is older than `STALE_S` is taken over (a killed run).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

from pipelines.core import io
from pipelines.core.builder import UsageError

LOCK_NAME = "lock"
HEARTBEAT_S = 30.0
STALE_S = 300.0
SETTLE_S = 1.0


class BuildLocked(UsageError):
    """Another run holds the output's lock (the CLI exits 2 with this one line)."""


def _holder(command: str) -> dict:
    return {
        "token": uuid.uuid4().hex,  # the holder's fencing token: who holds the lock now
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "heartbeat": time.time(),
        "command": command,
    }


def describe(info: dict) -> str:
    return f"pid {info.get('pid', '?')} on {info.get('host', '?')}, started {info.get('started', '?')}" + (
        f" ({info['command']})" if info.get("command") else ""
    )


@contextlib.contextmanager
def build_lock(builds_root: str, out: str, command: str = "") -> Iterator[dict]:
    """Hold the lock of the output whose builds live in `builds_root` for the `with` block."""
    path = io.join(builds_root, LOCK_NAME)
    if "://" in builds_root:
        with _object_lock(path, out, command) as info:
            yield info
        return
    import fcntl

    os.makedirs(builds_root, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildLocked(f"--out {out} is being built by another run ({describe(_read_fd(fd))}); wait for it to finish") from None
        info = _holder(command)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        try:
            yield info
        finally:
            os.ftruncate(fd, 0)  # the file stays (removing it would race with a waiting run)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_fd(fd: int) -> dict:
    try:
        return json.loads(os.pread(fd, 1 << 16, 0) or b"{}")
    except ValueError:
        return {}


def still_held(builds_root: str, info: dict) -> bool:
    """True while the lock is this run's (always, for a local flock). On an object store a run
    whose heartbeat stalled may have been taken over: it then must not commit or delete anything
    (the fencing check before the commit and the clean-up)."""
    if "://" not in builds_root:
        return True
    try:
        return _read(io.join(builds_root, LOCK_NAME)).get("token") == info.get("token")
    except OSError:
        return False


def _read(path: str) -> dict:
    try:
        doc = io.read_json(path)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _dead_here(held: dict) -> bool:
    """A holder on this host whose process is gone (kill -9): its lock is stale at once, not
    after `STALE_S` (other hosts cannot be asked, so their locks wait for the heartbeat)."""
    if held.get("host") != socket.gethostname() or not isinstance(held.get("pid"), int):
        return False
    try:
        os.kill(held["pid"], 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


@contextlib.contextmanager
def _object_lock(path: str, out: str, command: str) -> Iterator[dict]:
    """Best effort where there is no atomic create: write, wait, re-read, and keep a heartbeat.

    The lock object carries the holder's token. A lock whose heartbeat is older than `STALE_S`
    is taken over (`info["took_over"]`: the new holder starts a fresh snapshot instead of
    continuing the one the old holder may still be writing). The heartbeat never rewrites a lock
    that another run took over, and the old holder, finding another token, neither commits nor
    cleans up (`still_held`), so a takeover cannot destroy a running build."""
    took_over = None
    if io.exists(path):
        held = _read(path)
        if held and time.time() - float(held.get("heartbeat", 0)) < STALE_S and not _dead_here(held):
            raise BuildLocked(f"--out {out} is being built by another run ({describe(held)}); wait for it to finish")
        took_over = (held or None) if not _dead_here(held) else None  # a dead holder's snapshot is safe to resume
    info = _holder(command)
    info["took_over"] = bool(took_over)
    io.write_json_atomic(path, info)
    time.sleep(SETTLE_S)  # a run that wrote at the same moment: the last writer wins, the other stops
    if _read(path).get("token") != info["token"]:
        raise BuildLocked(f"--out {out} is being built by another run ({describe(_read(path))}); wait for it to finish")
    stop = threading.Event()

    def beat():
        while not stop.wait(HEARTBEAT_S):
            with contextlib.suppress(Exception):
                if _read(path).get("token") != info["token"]:
                    return  # taken over: never write it back
                info["heartbeat"] = time.time()
                io.write_json_atomic(path, info)

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield info
    finally:
        stop.set()
        thread.join()
        from apache_beam.io.filesystems import FileSystems

        with contextlib.suppress(Exception):
            if _read(path).get("token") == info["token"]:  # only our own lock
                FileSystems.delete([path])
