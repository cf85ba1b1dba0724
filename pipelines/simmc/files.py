"""Find SIMMC 2.x files by name anywhere below `--raw`, and cut big dialog files into work units.

The release is unpacked in many layouts (the git repo's `data/` and `dstc10/data/`, the zips'
`public/` and `teststd/` folders, flat copies), so nothing here depends on folders: dialog files,
scene JSONs, screenshots and prefab metadata are recognised by their names alone.

Dialog files are one JSON object per split (train is ~40 MB). So that dialogs build in parallel,
the launcher scans each file once with the C JSON decoder and cuts `dialogue_data` into chunks
of whole dialogs (byte ranges the workers read on their own). A dialog that does not decode ends
the scan: everything from it to the end of the file becomes one `tail` unit, which the worker
dead-letters with the decoder's message (so a truncated file keeps its complete dialogs). A file
whose top level cannot be scanned at all becomes one `whole` unit, parsed and judged by the worker.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from dataclasses import dataclass

# simmc2_dials_dstc10_dev.json, simmc2.1_dials_dstc11_teststd_public.json, ...; extra dotted
# suffixes (`.subset`) are allowed, retrieval candidate files are not dialog files.
DIALOG_FILE = re.compile(
    r"^simmc2(?P<minor>\.1)?_dials_dstc1[01]_(?P<split>train|dev|devtest|mini|teststd)(?:_public)?(?:\.[\w-]+)*\.json$"
)
SCENE_SUFFIX = "_scene.json"
PREFAB_SUFFIX = "_prefab_metadata_all.json"
SCREENSHOT_EXTENSIONS = (".png", ".jpg", ".jpeg")

#: published split file -> mmdial split (README.md documents the paper's 68/16/16 on top of this)
SPLITS = {"train": "train", "dev": "valid", "devtest": "devtest", "teststd": "teststd", "mini": "mini"}

DEFAULT_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class DialogFile:
    path: str
    size: int
    version: str  # "2.0" (DSTC10) or "2.1" (DSTC11)
    published_split: str  # train, dev, devtest, teststd, mini

    @property
    def split(self) -> str:
        return SPLITS[self.published_split]


@dataclass
class RawIndex:
    """What `--raw` holds, by name."""

    dialog_files: list[DialogFile]
    scenes: dict[str, tuple[str, int]]  # scene name (file name minus `_scene.json`) -> (path, size)
    screenshots: dict[str, tuple[str, int]]  # file stem -> (path, size)
    prefab_files: list[tuple[str, int]]

    def digest(self) -> str:
        """Changes whenever a side file appears, disappears or changes size (resume safety)."""
        items = sorted(self.scenes.items()) + sorted(self.screenshots.items()) + [(p, (p, s)) for p, s in self.prefab_files]
        return hashlib.sha256(json.dumps(items).encode()).hexdigest()[:16]


def _prefer(current: tuple[str, int] | None, path: str, size: int) -> tuple[str, int]:
    """Several copies of one name (a file in both the repo and an unpacked zip): keep the shortest path."""
    if current is None or (len(path), path) < (len(current[0]), current[0]):
        return path, size
    return current


def index_raw(files: list[tuple[str, int]]) -> RawIndex:
    dialogs: list[DialogFile] = []
    scenes: dict[str, tuple[str, int]] = {}
    shots: dict[str, tuple[str, int]] = {}
    prefabs: list[tuple[str, int]] = []
    for path, size in files:
        name = posixpath.basename(path)
        m = DIALOG_FILE.match(name)
        if m:
            dialogs.append(DialogFile(path, size, "2.1" if m.group("minor") else "2.0", m.group("split")))
        elif name.endswith(SCENE_SUFFIX):
            key = name[: -len(SCENE_SUFFIX)]
            scenes[key] = _prefer(scenes.get(key), path, size)
        elif name.endswith(PREFAB_SUFFIX):
            prefabs.append((path, size))
        elif name.lower().endswith(SCREENSHOT_EXTENSIONS):
            key = name.rsplit(".", 1)[0]
            shots[key] = _prefer(shots.get(key), path, size)
    return RawIndex(sorted(dialogs, key=lambda d: d.path), scenes, shots, sorted(prefabs))


def choose_dialog_files(found: list[DialogFile], version: str, with_mini: bool | None) -> list[DialogFile]:
    """One flavour only (both hold the same dialogs); one file per split; mini only without train."""
    if version == "auto":
        version = "2.1" if any(f.version == "2.1" for f in found) else "2.0"
    chosen = [f for f in found if f.version == version]
    by_split: dict[str, DialogFile] = {}
    for f in chosen:  # two copies of one split (repo + zip): keep the shortest path
        cur = by_split.get(f.published_split)
        if cur is None or (len(f.path), f.path) < (len(cur.path), cur.path):
            by_split[f.published_split] = f
    if with_mini is None:
        with_mini = "train" not in by_split  # mini is a sample of train: never both by default
    if not with_mini:
        by_split.pop("mini", None)
    return sorted(by_split.values(), key=lambda f: f.path)


# -- scanning dialog files into chunks -----------------------------------------------------
_WS = " \t\n\r"


def _skip_ws(s: str, i: int) -> int:
    n = len(s)
    while i < n and s[i] in _WS:
        i += 1
    return i


class ScanError(ValueError):
    pass


@dataclass
class Scan:
    header: dict  # every top-level key but dialogue_data
    spans: list[tuple[int, int]]  # byte ranges of the whole dialogs, in file order
    tail: tuple[int, int] | None  # byte range from the first undecodable dialog to the end


def scan_dialog_file(data: bytes) -> Scan:
    """Locate each element of `dialogue_data`; raise ScanError when the top level is unusable."""
    try:
        s = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScanError(f"not UTF-8: {exc}") from None
    ascii_only = len(s) == len(data)
    last = [0, 0]  # (char, byte) of the last converted position: offsets grow, so O(n) overall

    def byte_at(pos: int) -> int:
        if ascii_only:
            return pos
        c, b = last
        b += len(s[c:pos].encode("utf-8"))
        last[0], last[1] = pos, b
        return b

    dec = json.JSONDecoder()
    header: dict = {}
    spans: list[tuple[int, int]] = []
    i = _skip_ws(s, 0)
    if i >= len(s) or s[i] != "{":
        raise ScanError("top level is not a JSON object")
    i += 1
    found = False
    try:
        while True:
            i = _skip_ws(s, i)
            if i < len(s) and s[i] == "}":
                break
            key, i = dec.raw_decode(s, i)
            i = _skip_ws(s, i)
            if not isinstance(key, str) or i >= len(s) or s[i] != ":":
                raise ScanError(f"malformed top-level key at character {i}")
            i = _skip_ws(s, i + 1)
            if key == "dialogue_data" and i < len(s) and s[i] == "[":
                found = True
                i = _skip_ws(s, i + 1)
                if i < len(s) and s[i] == "]":
                    i += 1
                else:
                    while True:
                        start = i
                        try:
                            _, end = dec.raw_decode(s, i)
                        except json.JSONDecodeError:
                            return Scan(header, spans, (byte_at(start), len(data)))
                        spans.append((byte_at(start), byte_at(end)))
                        i = _skip_ws(s, end)
                        if i < len(s) and s[i] == ",":
                            i = _skip_ws(s, i + 1)
                        elif i < len(s) and s[i] == "]":
                            i += 1
                            break
                        else:  # the list never closes: truncated (or garbage) after a whole dialog
                            return Scan(header, spans, (byte_at(i), len(data)))
            else:
                header[key], i = dec.raw_decode(s, i)
            i = _skip_ws(s, i)
            if i < len(s) and s[i] == ",":
                i += 1
                continue
            if i < len(s) and s[i] == "}":
                break
            raise ScanError(f"expected ',' or '}}' at character {i}")
    except json.JSONDecodeError as exc:
        if found:  # dialogs were located; only the header after them is broken
            return Scan(header, spans, None)
        raise ScanError(str(exc)) from None
    if not found:
        raise ScanError("no dialogue_data list")
    return Scan(header, spans, None)


def chunk_spans(spans: list[tuple[int, int]], chunk_bytes: int) -> list[tuple[int, int, int]]:
    """Group consecutive dialogs into (first index, start byte, end byte) of about chunk_bytes."""
    out: list[tuple[int, int, int]] = []
    first = 0
    for k, (_, end) in enumerate(spans):
        if k == first:
            continue
        if end - spans[first][0] > chunk_bytes:
            out.append((first, spans[first][0], spans[k - 1][1]))
            first = k
    if spans:
        out.append((first, spans[first][0], spans[-1][1]))
    return out


def iter_dialogs(chunk: bytes):
    """(dialog, its source text cut to an excerpt's length) for each dialog of a chunk unit.

    The text is what a dead letter shows; slicing it here is far cheaper than re-serialising
    every parsed dialog just in case it fails."""
    s = chunk.decode("utf-8")
    dec = json.JSONDecoder()
    i = _skip_ws(s, 0)
    while i < len(s):
        doc, end = dec.raw_decode(s, i)
        yield doc, s[i : min(end, i + 2000)]
        i = _skip_ws(s, end)
        if i < len(s) and s[i] == ",":
            i = _skip_ws(s, i + 1)
