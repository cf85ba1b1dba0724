"""Where a build's input came from: real release files, or a corpus an mmdial generator wrote.

A card that cites the real papers over data that `mmdial generate` made would mislead its reader.
Every generator leaves `GENERATED.json` (its config and the counts a build should report) in the
corpus it writes; the build records it in the manifest's `provenance` and the card says at the top
that the data is synthetic and how it was made.
"""

from __future__ import annotations

import json
import posixpath

from pipelines.core import io

MARKER = "GENERATED.json"
GENERATOR_PREFIX = "mmdial."  # {"generator": "mmdial.mmd", "config": {...}, ...}


def read_marker(folder: str) -> dict | None:
    """The generator's record in `folder`, or None when the folder holds no mmdial-generated corpus."""
    path = io.join(folder, MARKER)
    try:
        body = json.loads(io.read_bytes(path)) if io.exists(path) else None
    except (OSError, ValueError):
        return None
    if not isinstance(body, dict) or not str(body.get("generator", "")).startswith(GENERATOR_PREFIX):
        return None
    config = {k: v for k, v in (body.get("config") or {}).items() if k != "out"}  # where it was written is no property of the data
    return {"synthetic": True, "generator": body["generator"], "config": config}


def of(builder) -> dict:
    """The provenance of a builder's input: the generator's record in its input folder (`raw`, or
    `input` for a folder of images) or the folder above it, else `{"synthetic": False}`."""
    for attr in ("raw", "input"):
        root = getattr(builder, attr, None)
        if not isinstance(root, str) or not root:
            continue
        for folder in (root, posixpath.dirname(root.rstrip("/"))):
            marker = read_marker(folder) if folder else None
            if marker:
                return marker
    return {"synthetic": False}
