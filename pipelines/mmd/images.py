"""MMD's image reference maps (the resolver itself is `pipelines.core.resolver.ImageResolver`).

Saha's release puts image URLs in dialogs; MMD 2.0 puts ids, mapped to URLs by `image_id.json`
(a JSON list whose element 0 is {url: id}) and to file names by `url2img.txt` ("<url> <file>").
A reference that maps to nothing, or to a file that is not there, is missing: it is listed,
never replaced by a blank image.
"""

from __future__ import annotations

import json

from pipelines.core import io
from pipelines.core.images import IMAGE_EXTENSIONS, image_size  # noqa: F401 - re-exported for MMD's modules
from pipelines.core.resolver import ImageResolver, stem  # noqa: F401 - the resolver is the core's; MMD adds the maps


def load_url2img(path: str | None) -> dict[str, str]:
    if not path:
        return {}
    out = {}
    for _, line in io.iter_lines(io.read_bytes(path)):
        parts = line.decode("utf-8", errors="replace").strip().rsplit(" ", 1)
        if len(parts) == 2:
            out[parts[0].strip()] = parts[1].strip()
    return out


def load_image_ids(path: str | None) -> dict[str, str | None]:
    """id -> url, from image_id.json's first element {url: id}. An id that two URLs share maps to
    None: the resolver refuses it as ambiguous (never picks one of the two silently)."""
    if not path:
        return {}
    doc = json.loads(io.read_bytes(path))
    mapping = doc[0] if isinstance(doc, list) and doc else doc if isinstance(doc, dict) else {}
    out: dict[str, str | None] = {}
    for url, image_id in mapping.items():
        key = str(image_id)
        out[key] = url if key not in out else None
    return out
