"""Path containment: nothing outside a declared input folder is ever read.

Two places need it. Listing an input folder (`io.list_files`) must not follow a symbolic link out
of it, and must report (not silently drop) links that dangle or loop. Resolving a file name
found *inside* the data (an MMD image reference, a `url2img.txt` entry) must refuse `../`,
absolute paths and links out of the image folder. Both give a reason that becomes a dead letter.
"""

from __future__ import annotations

import errno
import os
import posixpath

OUTSIDE = "outside"


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def refused_name(name: str) -> str | None:
    """Why a file name found in the data can never be inside a folder, judged on the name alone
    (empty, absolute, `..`), or None."""
    if not name or "\0" in name:
        return "empty or invalid file name"
    if name.startswith("/") or "://" in name or (len(name) > 1 and name[1] == ":"):
        return f"{OUTSIDE}: absolute path {name!r} (references must be relative to the image folder)"
    if ".." in name.replace("\\", "/").split("/"):
        return f"{OUTSIDE}: {name!r} climbs out of the image folder"
    return None


def contained(root: str, name: str) -> tuple[str | None, str]:
    """(path, '') for a file `name` inside `root`, else (None, reason)."""
    refused = refused_name(name)
    if refused:
        return None, refused
    parts = name.replace("\\", "/").split("/")
    path = posixpath.join(root.rstrip("/"), *[p for p in parts if p not in ("", ".")])
    if "://" in root:
        return path, ""
    real_root = os.path.realpath(root)
    try:
        real = os.path.realpath(path, strict=True)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, f"symbolic link loop at {name!r}"
        if os.path.islink(path):
            return None, f"dangling symbolic link {name!r}"
        return None, "not_found"
    if not _within(real, real_root):
        return None, f"{OUTSIDE}: {name!r} is a symbolic link to {real}, outside the image folder"
    if not os.path.isfile(real):
        return None, f"{name!r} is not a regular file"
    return path, ""


def relative_to(path: str, roots: list[str]) -> str:
    """`path` relative to the deepest of `roots` (the declared input folders) that holds it, so
    no published table carries the folder layout of the machine that built it (issue #21
    item 5). A local absolute path under none of them keeps its file name only."""
    if not path:
        return path
    bare = path.split("@", 1)[0].split("#", 1)[0]  # a byte range or a crop box after the file
    best = ""
    for root in roots:
        r = root.rstrip("/")
        if r and len(r) > len(best) and (bare == r or bare.startswith(r + "/")):
            best = r
    if best:
        return path[len(best) + 1 :] or posixpath.basename(best)
    if path.startswith("/"):
        return posixpath.basename(bare) + path[len(bare) :]
    return path


def relative_text(text: str, roots: list[str]) -> str:
    """`text` (a dead letter's reason) with every declared root prefix taken out."""
    for root in sorted((r.rstrip("/") for r in roots if r), key=len, reverse=True):
        text = text.replace(root + "/", "")
    return text


def walk_local(root: str) -> tuple[list[tuple[str, int]], dict[str, str]]:
    """Regular files under a local `root` (hidden names skipped, like a glob), as (path, size),
    plus {path: reason} for entries that cannot be read safely: links that dangle, loop, or lead
    outside `root`, and links to folders (not followed, so no file is listed twice)."""
    real_root = os.path.realpath(root)
    files: list[tuple[str, int]] = []
    rejected: dict[str, str] = {}
    base = root.rstrip("/") or "/"
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for d in list(dirnames):
            full = os.path.join(dirpath, d)
            if os.path.islink(full):
                dirnames.remove(d)
                reason = _link_problem(full, real_root)
                rejected[full] = reason or "symbolic link to a folder (not followed; its files are read under their own path)"
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            full = os.path.join(dirpath, name)
            if os.path.islink(full):
                reason = _link_problem(full, real_root)
                if reason:
                    rejected[full] = reason
                    continue
                if os.path.isdir(full):
                    rejected[full] = "symbolic link to a folder (not followed; its files are read under their own path)"
                    continue
            try:
                st = os.stat(full)
            except OSError as exc:
                rejected[full] = f"cannot stat: {exc.strerror}"
                continue
            if not os.path.isfile(full):
                rejected[full] = "not a regular file"
                continue
            files.append((full, st.st_size))
    return sorted(files), rejected


def _link_problem(path: str, real_root: str) -> str | None:
    try:
        real = os.path.realpath(path, strict=True)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
        return f"dangling symbolic link (to {os.readlink(path)})"
    if not _within(real, real_root):
        return f"{OUTSIDE}: symbolic link to {real}, outside the input folder"
    return None
