"""Read the JDDC 2.0/2.1 message TSV by byte range, one whole session at a time.

The native file (`data_train.txt`, ...) has one message per line: session id, shop type, SKU
(may be empty), text, waiter flag ("1" customer-service agent, "0" customer), tab separated;
a session's messages are contiguous and in time order (JD's official readers assume the same).

Why byte ranges: at 246k sessions / 3.46M messages one file is far too big for one worker, but
splitting it at arbitrary bytes would cut sessions in two. So a range [start, end) *owns* every
session whose first line starts inside it: the reader skips the tail of a session that began
before `start` and reads past `end` to finish its last session. Every session is therefore read
whole by exactly one unit, memory stays at one range plus one session, and the owned bytes of
all units partition the file (their sizes add up to the file's).

A line without a tab has no session id: it is attached to the session before it (that is what an
embedded newline or a truncated line looks like) and dead-lettered by the message parser.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from pipelines.core import io
from pipelines.core.context import Reject
from pipelines.core.io import UTF8_BOM

NUM_COLUMNS = 5
WAITER_FLAGS = {"1": True, "0": False}
IMAGE_MESSAGE = re.compile(r"^[A-Za-z0-9]+\.(?:jpg|jpeg|png)$", re.IGNORECASE)
LOOKBACK = 64 * 1024


def line_key(line: bytes) -> bytes | None:
    """The session id field of a raw line, or None when the line has no tab."""
    i = line.find(b"\t")
    return None if i < 0 else line[:i]


@dataclass
class SessionLines:
    key: bytes | None  # None: lines before any session id (start of file)
    lines: list[tuple[int, bytes]] = field(default_factory=list)  # (byte offset, line without newline)


@dataclass
class OwnedRange:
    """What a unit read: its sessions, and the checksum of the bytes it owns."""

    bytes_owned: int = 0
    sha256: str = ""


def _previous_key(fh, line_start: int) -> bytes | None:
    """Session id of the nearest line before `line_start` that has one (None at file start).

    Linear in the bytes it passes: it walks back from newline to newline in fixed chunks and
    reads each line's head only up to its first tab (a 50 MB line is scanned once, not once per
    chunk)."""
    pos = line_start - 1  # the newline that ends the previous line
    while pos > 0:
        start = _line_start_before(fh, pos)
        key = _key_at(fh, start, pos)
        if key is not None:
            return key
        if start == 0:
            return None
        pos = start - 1
    return None


def _line_start_before(fh, pos: int) -> int:
    """Start offset of the line whose content ends at `pos` (exclusive)."""
    while pos > 0:
        step = min(LOOKBACK, pos)
        fh.seek(pos - step)
        chunk = fh.read(step)
        i = chunk.rfind(b"\n")
        if i >= 0:
            return pos - step + i + 1
        pos -= step
    return 0


def _key_at(fh, start: int, end: int) -> bytes | None:
    """The session id of the line [start, end): the bytes before its first tab, or None."""
    fh.seek(start)
    head: list[bytes] = []
    pos = start
    while pos < end:
        chunk = fh.read(min(LOOKBACK, end - pos))
        if not chunk:
            break
        i = chunk.find(b"\t")
        if i >= 0:
            key = b"".join(head) + chunk[:i]
            return key[len(UTF8_BOM) :] if start == 0 and key.startswith(UTF8_BOM) else key
        head.append(chunk)
        pos += len(chunk)
    return None


def _first_line_start(fh, start: int) -> int | None:
    """Offset of the first line that starts at or after `start` (None: no such line)."""
    if start == 0:
        return 0
    fh.seek(start - 1)
    if fh.read(1) == b"\n":
        return start
    fh.seek(start)
    skipped = fh.readline()
    if not skipped.endswith(b"\n"):
        return None
    return start + len(skipped)


def iter_owned_sessions(path: str, start: int, end: int, result: OwnedRange) -> Iterator[SessionLines]:
    """Sessions owned by the byte range [start, end) of `path` (end < 0: to the end of the file).

    `result` receives the size and sha256 of the owned bytes once the iterator is exhausted."""
    digest = hashlib.sha256()
    owned = 0
    with _open(path) as fh:
        first = _first_line_start(fh, start)
        if first is None:
            result.bytes_owned, result.sha256 = 0, digest.hexdigest()
            return
        skip_key = _previous_key(fh, first) if first > 0 else None
        fh.seek(first)
        offset = first
        skipping = first > 0
        current: SessionLines | None = None
        while True:
            raw = fh.readline()
            if not raw:
                break
            line = raw.rstrip(b"\r\n")
            if offset == 0 and line.startswith(UTF8_BOM):  # encoding, not part of the session id
                line = line[len(UTF8_BOM) :]
            key = line_key(line)
            if skipping:
                if key is None or key == skip_key:
                    offset += len(raw)
                    continue
                skipping = False
            if current is not None and key is not None and key != current.key:
                # a new session starts here: ours only if it starts inside the range
                yield current
                current = None
                if end >= 0 and offset >= end:
                    break
            if current is None:
                if end >= 0 and offset >= end:
                    break
                current = SessionLines(key)
            current.lines.append((offset, line))
            digest.update(raw)
            owned += len(raw)
            offset += len(raw)
        if current is not None:
            yield current
    result.bytes_owned, result.sha256 = owned, digest.hexdigest()


def _open(path: str):
    from apache_beam.io.filesystems import FileSystems

    return FileSystems.open(path, compression_type="uncompressed")


@dataclass
class Message:
    offset: int
    session_id: str
    shop_type: str
    sku: str
    text: str
    waiter: bool
    image: str | None  # the `<md5>.jpg` name for an image message


def parse_message(offset: int, line: bytes) -> Message:
    """One TSV line -> Message; raises Reject with a precise reason for anything malformed."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Reject(f"not UTF-8: {exc}") from None
    fields = text.split("\t")
    if len(fields) != NUM_COLUMNS:
        raise Reject(f"wrong column count: {len(fields)} of {NUM_COLUMNS} (session id, shop type, SKU, text, waiter flag)")
    session_id, shop_type, sku, body, flag = fields
    if not session_id.strip():
        raise Reject("empty session id")
    flag = flag.strip()
    if flag not in WAITER_FLAGS:
        raise Reject(f"bad waiter flag {flag!r}: expected '1' (customer service) or '0' (customer)")
    image = None
    if body.endswith(("g", "G", "g ", "G ")):  # cheap pre-check: most messages are text
        stripped = body.strip()
        image = stripped if IMAGE_MESSAGE.match(stripped) else None
    return Message(offset, session_id, shop_type.strip(), sku.strip(), body, WAITER_FLAGS[flag], image)


def plan_ranges(path: str, size: int, range_bytes: int) -> list[tuple[int, int]]:
    """Equal byte ranges covering the file; the reader aligns them to sessions."""
    if size <= 0:
        return [(0, -1)]
    n = max(1, -(-size // max(range_bytes, 1)))
    step = -(-size // n)
    return [(i * step, -1 if i == n - 1 else (i + 1) * step) for i in range(n)]


def read_whole(path: str) -> bytes:
    return io.read_bytes(path)
