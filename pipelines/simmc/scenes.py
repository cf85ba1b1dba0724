"""Scenes: from a scene name to its JSON, screenshot and prefab metadata, and to product crops.

One judgement, `check_scene`, decides whether a scene's objects can all become products; the
scene's work unit uses it before cropping, and dialog units use it (on the same files, with the
screenshot's size read from its header) before emitting a recommendation sample. So a sample is
kept exactly when every candidate product of its scene is built, and the reason a sample is
dead-lettered is the scene's own (missing JSON, screenshot or prefab entry, bbox off-screen).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field

from pipelines.core import io
from pipelines.core.context import Reject
from pipelines.simmc.reader import SceneObject, parse_scene

MAX_LISTED_PROBLEMS = 3
HEADER_BYTES = 1 << 16


def screenshot_stem(scene: str) -> str:
    """`m_<name>` scenes are drawn on `<name>.png` (official visualize_bboxes.py)."""
    return scene[2:] if scene.startswith("m_") else scene


def load_prefab_metadata(paths: list[str]) -> dict[str, dict]:
    """Merge `*_prefab_metadata_all.json` files (keyed by prefab path) into one lookup."""
    merged: dict[str, dict] = {}
    for path in paths:
        doc = json.loads(io.read_bytes(path))
        if not isinstance(doc, dict):
            raise ValueError(f"{path}: prefab metadata must be a JSON object keyed by prefab path, got {type(doc).__name__}")
        merged.update({str(k): v for k, v in doc.items()})
    return merged


@dataclass
class SceneStatus:
    name: str  # the scene file's name (what product ids use)
    objects: dict[int, SceneObject] = field(default_factory=dict)
    error: str | None = None  # the scene as a whole is unusable
    problems: dict[int, str] = field(default_factory=dict)  # objects that cannot become products
    screenshot: str | None = None

    def unusable(self) -> str | None:
        """Why samples in this scene cannot be built (None: they can)."""
        if self.error:
            return f"scene {self.name}: {self.error}"
        if self.problems:
            listed = list(self.problems.values())
            more = f" (+{len(listed) - MAX_LISTED_PROBLEMS} more)" if len(listed) > MAX_LISTED_PROBLEMS else ""
            return f"scene {self.name}: " + "; ".join(listed[:MAX_LISTED_PROBLEMS]) + more
        return None


def check_scene(name: str, data: bytes, size: tuple[int, int] | None, screenshot: str, prefab: dict[str, dict]) -> SceneStatus:
    """Judge a scene from its JSON bytes, its screenshot's (width, height) or None, and the metadata."""
    status = SceneStatus(name, screenshot=screenshot)
    try:
        objects, status.problems = parse_scene(data)
    except Reject as exc:
        status.error = str(exc)
        return status
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        status.error = f"scene JSON does not parse: {type(exc).__name__}: {exc}"
        return status
    if size is None:
        status.error = f"screenshot {screenshot} not found"
        return status
    for obj in objects:
        meta = prefab.get(obj.prefab_path)
        if meta is None:
            status.problems[obj.index] = f"object {obj.index}: no prefab metadata entry for {obj.prefab_path!r}"
        elif not isinstance(meta, dict):
            status.problems[obj.index] = f"object {obj.index}: prefab metadata for {obj.prefab_path!r} is not an object"
        elif obj.crop_box(*size) is None:
            status.problems[obj.index] = f"object {obj.index}: bbox {list(obj.bbox)} lies outside the {size[0]}x{size[1]} screenshot"
        else:
            status.objects[obj.index] = obj
    return status


class SceneIndex:
    """Scene name -> files, for the workers. Built from the launcher's `RawIndex`."""

    def __init__(self, scenes: dict[str, tuple[str, int]], screenshots: dict[str, tuple[str, int]], prefab: dict[str, dict]):
        self.scenes = scenes
        self.screenshots = screenshots
        self.prefab = prefab

    def canonical(self, name: str) -> str | None:
        """The scene file a dialog's scene name means: `<name>_scene.json`, else `m_<name>_scene.json`."""
        if name in self.scenes:
            return name
        if f"m_{name}" in self.scenes:
            return f"m_{name}"
        return None

    def product_scene(self, name: str) -> str:
        return self.canonical(name) or name

    def screenshot_of(self, scene: str) -> tuple[str, str | None, int]:
        """(file name, path or None when absent, size in bytes)."""
        for stem in dict.fromkeys((screenshot_stem(scene), scene)):
            if stem in self.screenshots:
                path, size = self.screenshots[stem]
                return path.rsplit("/", 1)[-1], path, size
        return f"{screenshot_stem(scene)}.png", None, 0

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one index per worker, lives as long as it
    def status(self, name: str) -> SceneStatus:
        """The dialog side's view of a scene (cached: scenes are shared by many dialogs)."""
        scene = self.canonical(name)
        if scene is None:
            tried = f"{name}_scene.json" if name.startswith("m_") else f"{name}_scene.json or m_{name}_scene.json"
            return SceneStatus(name, error=f"scene JSON not found (no {tried} below --raw)")
        shot_name, shot_path, _ = self.screenshot_of(scene)
        try:
            size = image_header_size(shot_path) if shot_path else None
            if size is not None:  # the scene unit decodes every pixel: so does this judgement
                decode_screenshot(io.read_bytes(shot_path))
        except Reject as exc:
            return SceneStatus(scene, error=f"screenshot {shot_name}: {exc}", screenshot=shot_name)
        status = check_scene(scene, io.read_bytes(self.scenes[scene][0]), size, shot_name, self.prefab)
        if shot_path and size is None and status.error == f"screenshot {shot_name} not found":
            status.error = f"screenshot {shot_name} is not a readable image"
        return status


def image_header_size(path: str) -> tuple[int, int] | None:
    """(width, height) from the image header without decoding the pixels; `Reject` above the
    core's pixel limit (the same rule the scene unit applies before decoding)."""
    from pipelines.core.images import header_size

    size = header_size(io.read_range(path, 0, HEADER_BYTES))
    return size if size is not None else header_size(io.read_bytes(path))


def decode_screenshot(data: bytes):
    """Pixels of a screenshot; one above the core's pixel limit is refused from its header."""
    import cv2
    import numpy as np

    from pipelines.core.images import header_size

    header_size(data)  # Reject above the core's pixel limit, before any pixel is decoded
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise Reject("cannot decode screenshot")
    return image


def crop(image, obj: SceneObject, fmt: str = "jpeg", quality: int = 90) -> tuple[bytes, int, int]:
    """Encoded crop of `obj` (bbox clipped to the screenshot): (bytes, width, height)."""
    import cv2

    height, width = image.shape[:2]
    box = obj.crop_box(width, height)
    if box is None:
        raise Reject(f"object {obj.index}: bbox {list(obj.bbox)} lies outside the {width}x{height} screenshot")
    x0, y0, x1, y1 = box
    part = image[y0:y1, x0:x1]
    if fmt == "png":
        ok, buf = cv2.imencode(".png", part, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    else:
        ok, buf = cv2.imencode(".jpg", part, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise Reject(f"object {obj.index}: cannot encode crop")
    return buf.tobytes(), x1 - x0, y1 - y0
