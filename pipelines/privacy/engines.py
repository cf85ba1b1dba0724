"""OCR engines behind one small interface: a decoded image in, text lines with polygons out.

Why an interface: the masking logic (recognisers, geometry, audit) must not care which OCR ran,
tests need a deterministic engine that costs nothing, and sites with their own PaddleOCR models
want to plug them in. Every engine is built once per worker (the masker's `setup`), never per
image, and describes itself (`info()`: name, version, model files and their sha256) so that each
output row can say exactly what produced it.

- `RapidOCREngine`: rapidocr 3.x on onnxruntime with the PP-OCR ONNX models shipped inside the
  wheel. The offline default: model paths are passed explicitly, so rapidocr never tries its
  downloader.
- `PaddleOCREngine`: PaddleOCR (optional extra `paddle`) configured with local model
  directories only (PaddleOCR downloads its models at start otherwise).
- `FakeEngine`: deterministic lines looked up by the image's pixel hash; for unit tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

Point = tuple[float, float]
Quad = tuple[Point, Point, Point, Point]


class EngineUnavailable(RuntimeError):
    """The engine's package or model files are missing (a set-up problem, not an image problem)."""


@dataclass(frozen=True)
class TextLine:
    """One OCR text line.

    `polygon`: 4 points clockwise from the top-left of the text as read (so p0->p1 runs along the
    reading direction even when the line is rotated). `char_boxes`: one quad per non-whitespace
    character of `text`, in order, when the engine reports them (rapidocr does); else None and
    the masker estimates the character geometry from the polygon.
    """

    text: str
    polygon: Quad
    score: float
    char_boxes: tuple[Quad, ...] | None = None

    def to_json(self) -> dict:
        return {"text": self.text, "polygon": [list(p) for p in self.polygon], "score": self.score}


class OCREngine(Protocol):
    name: str

    def info(self) -> dict:
        """Name, version, model files with sha256, parameters: recorded in every audit."""

    def ocr(self, image_bgr: np.ndarray) -> list[TextLine]:
        """Text lines of an 8-bit BGR image (H, W, 3). Raise on failure (the masker quarantines)."""


def _quad(points) -> Quad:
    pts = [(float(x), float(y)) for x, y in list(points)[:4]]
    if len(pts) != 4:
        raise ValueError(f"polygon with {len(pts)} points")
    return tuple(pts)  # type: ignore[return-value]


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# -- rapidocr (the offline default) -----------------------------------------------------------
RAPID_MODELS = {"det": "PP-OCRv6_det_small.onnx", "rec": "PP-OCRv6_rec_small.onnx", "cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx"}


@dataclass
class RapidOCREngine:
    """rapidocr 3.x + onnxruntime, models from the wheel (or `model_paths` overrides).

    `threads`: onnxruntime intra-op threads per worker (1 when Beam runs one process per core).
    `det_limit_side_len`: the detector scales the shorter side to at least this (rapidocr's default
    736 suits phone screenshots; lower is faster on small images, at some recall cost).
    `text_score` is 0: the engine returns every line with its score and the policy decides.
    """

    threads: int = 1
    use_cls: bool = True
    det_limit_side_len: int = 736
    det_box_thresh: float = 0.5
    det_unclip_ratio: float = 1.6
    model_paths: dict[str, str] = field(default_factory=dict)
    name: str = "rapidocr"

    def __post_init__(self):
        try:
            import rapidocr
            from rapidocr import RapidOCR
        except ImportError as exc:  # pragma: no cover - a hard dependency
            raise EngineUnavailable(f"rapidocr is not installed: {exc}") from exc
        root = os.path.join(os.path.dirname(rapidocr.__file__), "models")
        self._paths = {k: self.model_paths.get(k) or os.path.join(root, v) for k, v in RAPID_MODELS.items()}
        for task, path in self._paths.items():
            if not os.path.isfile(path):
                raise EngineUnavailable(f"rapidocr {task} model not found at {path} (no download is attempted)")
        params = {
            "Global.log_level": "error",
            "Global.text_score": 0.0,
            "Global.use_cls": self.use_cls,
            "Det.model_path": self._paths["det"],
            "Rec.model_path": self._paths["rec"],
            "Cls.model_path": self._paths["cls"],
            "Det.limit_side_len": self.det_limit_side_len,
            "Det.box_thresh": self.det_box_thresh,
            "Det.unclip_ratio": self.det_unclip_ratio,
            "EngineConfig.onnxruntime.intra_op_num_threads": self.threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
        self._engine = RapidOCR(params=params)
        self._version = getattr(rapidocr, "__version__", None) or _dist_version("rapidocr")
        self._info = None
        # load the sessions now (once per worker), not inside the first image's timeout
        self._engine(np.full((48, 160, 3), 255, np.uint8))

    def info(self) -> dict:
        if self._info is None:
            self._info = {
                "name": self.name,
                "version": self._version,
                "onnxruntime": _dist_version("onnxruntime"),
                "models": {k: {"file": os.path.basename(p), "sha256": file_sha256(p)} for k, p in sorted(self._paths.items())},
                "params": {
                    "use_cls": self.use_cls,
                    "det_limit_side_len": self.det_limit_side_len,
                    "det_box_thresh": self.det_box_thresh,
                    "det_unclip_ratio": self.det_unclip_ratio,
                },
            }
        return self._info

    def ocr(self, image_bgr: np.ndarray) -> list[TextLine]:
        res = self._engine(np.ascontiguousarray(image_bgr), return_word_box=True, return_single_char_box=True)
        boxes = getattr(res, "boxes", None)
        txts = getattr(res, "txts", None)
        if boxes is None or txts is None:
            return []
        scores = res.scores or [1.0] * len(txts)
        words = list(getattr(res, "word_results", ()) or ())
        lines = []
        for i, (box, text, score) in enumerate(zip(boxes, txts, scores, strict=False)):
            chars = None
            if i < len(words) and words[i] and len(words) == len(txts):
                quads = [w[2] for w in words[i] if w and len(w) > 2 and w[2] is not None]
                glyphs = [w[0] for w in words[i] if w and len(w) > 2 and w[2] is not None]
                if sum(len(g) for g in glyphs) == len("".join(text.split())) and all(len(g) == 1 for g in glyphs):
                    chars = tuple(_quad(q) for q in quads)
            lines.append(TextLine(text=str(text), polygon=_quad(box), score=float(score), char_boxes=chars))
        return lines


def _dist_version(name: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:  # noqa: BLE001
        return None


# -- PaddleOCR (optional extra `paddle`) ------------------------------------------------------
@dataclass
class PaddleOCREngine:
    """PaddleOCR with local model directories (det, rec, optional cls); never downloads.

    Works with PaddleOCR 2.x (`det_model_dir=...`, `.ocr()`) and 3.x
    (`text_detection_model_dir=...`, `.predict()`). Install with `pip install mmdial[paddle]`.
    """

    det_model_dir: str = ""
    rec_model_dir: str = ""
    cls_model_dir: str = ""
    lang: str = "ch"
    name: str = "paddleocr"

    def __post_init__(self):
        for label, d in (("det_model_dir", self.det_model_dir), ("rec_model_dir", self.rec_model_dir)):
            if not d or not os.path.isdir(d):
                raise EngineUnavailable(f"PaddleOCR needs a local {label} (got {d!r}); it would download models otherwise")
        if self.cls_model_dir and not os.path.isdir(self.cls_model_dir):
            raise EngineUnavailable(f"cls_model_dir {self.cls_model_dir!r} is not a folder")
        try:
            import paddleocr
        except ImportError as exc:
            raise EngineUnavailable("PaddleOCR is not installed: pip install 'mmdial[paddle]' (paddleocr, paddlepaddle)") from exc
        self._version = getattr(paddleocr, "__version__", None) or _dist_version("paddleocr") or "0"
        self._major = int(str(self._version).split(".")[0] or 0)
        os.environ.setdefault("PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK", "True")
        if self._major >= 3:
            kwargs = {
                "text_detection_model_dir": self.det_model_dir,
                "text_recognition_model_dir": self.rec_model_dir,
                "use_doc_orientation_classify": False,
                "use_doc_unwarping": False,
                "use_textline_orientation": bool(self.cls_model_dir),
            }
            if self.cls_model_dir:
                kwargs["textline_orientation_model_dir"] = self.cls_model_dir
            self._engine = paddleocr.PaddleOCR(**kwargs)
        else:
            kwargs = {
                "det_model_dir": self.det_model_dir,
                "rec_model_dir": self.rec_model_dir,
                "lang": self.lang,
                "show_log": False,
                "use_angle_cls": bool(self.cls_model_dir),
            }
            if self.cls_model_dir:
                kwargs["cls_model_dir"] = self.cls_model_dir
            self._engine = paddleocr.PaddleOCR(**kwargs)

    def info(self) -> dict:
        models = {}
        for k, d in (("det", self.det_model_dir), ("rec", self.rec_model_dir), ("cls", self.cls_model_dir)):
            if d:
                h = hashlib.sha256()
                for name in sorted(os.listdir(d)):
                    p = os.path.join(d, name)
                    if os.path.isfile(p):
                        h.update(name.encode() + b"\0" + file_sha256(p).encode())
                models[k] = {"dir": os.path.basename(os.path.normpath(d)), "sha256": h.hexdigest()}
        return {
            "name": self.name,
            "version": self._version,
            "paddle": _dist_version("paddlepaddle"),
            "models": models,
            "params": {"lang": self.lang},
        }

    def ocr(self, image_bgr: np.ndarray) -> list[TextLine]:
        if self._major >= 3:
            lines = []
            for res in self._engine.predict(image_bgr):
                data = res.json.get("res", res.json) if hasattr(res, "json") else dict(res)
                for text, score, poly in zip(
                    data.get("rec_texts", []), data.get("rec_scores", []), data.get("rec_polys", []), strict=False
                ):
                    if str(text).strip():
                        lines.append(TextLine(str(text), _quad(np.asarray(poly).tolist()), float(score)))
            return lines
        result = self._engine.ocr(image_bgr, cls=bool(self.cls_model_dir))
        lines = []
        for page in result or []:
            for box, (text, score) in page or []:
                if str(text).strip():
                    lines.append(TextLine(str(text), _quad(box), float(score)))
        return lines


# -- the deterministic fake -------------------------------------------------------------------
def pixel_key(image_bgr: np.ndarray) -> str:
    """Key of an image for FakeEngine scripts: sha256 of shape + pixels (stable for lossless formats)."""
    arr = np.ascontiguousarray(image_bgr)
    return hashlib.sha256(repr(arr.shape).encode() + arr.tobytes()).hexdigest()


@dataclass
class FakeEngine:
    """Returns scripted lines per image (keyed by `pixel_key`), `default` lines otherwise.

    `script`: {key: [{"text", "polygon", "score", "char_boxes"?}, ...]} or a path to such a JSON
    file (so the engine can be named in a config and rebuilt on Beam workers). `fail_keys` raise,
    `hang_keys` block until `release()` (to exercise the timeout path without sleeping).
    """

    script: dict | str | None = None
    default: list = field(default_factory=list)
    fail_keys: tuple[str, ...] = ()
    hang_keys: tuple[str, ...] = ()
    name: str = "fake"
    calls: int = 0

    def __post_init__(self):
        if isinstance(self.script, str):
            with open(self.script, encoding="utf-8") as fh:
                self.script = json.load(fh)
        self.script = self.script or {}
        self._gate = threading.Event()

    def release(self) -> None:
        self._gate.set()

    def info(self) -> dict:
        digest = hashlib.sha256(json.dumps(self.script, sort_keys=True).encode()).hexdigest()
        return {"name": self.name, "version": "1", "models": {"script": {"sha256": digest}}, "params": {}}

    def ocr(self, image_bgr: np.ndarray) -> list[TextLine]:
        self.calls += 1
        key = pixel_key(image_bgr)
        if key in self.fail_keys:
            raise RuntimeError("fake OCR failure")
        if key in self.hang_keys:
            while not self._gate.wait(0.05):
                time.sleep(0)
        out = []
        for item in self.script.get(key, self.default):
            chars = item.get("char_boxes")
            out.append(
                TextLine(
                    item["text"], _quad(item["polygon"]), float(item.get("score", 1.0)), tuple(_quad(c) for c in chars) if chars else None
                )
            )
        return out


# -- construction from a config -----------------------------------------------------------------
ENGINES = {"rapidocr": RapidOCREngine, "paddle": PaddleOCREngine, "paddleocr": PaddleOCREngine, "fake": FakeEngine}


def make_engine(spec: dict) -> OCREngine:
    """Build an engine from `{"name": ..., **constructor options}` (the `engine` section of a policy config)."""
    from dataclasses import fields

    spec = dict(spec or {})
    name = spec.pop("name", "rapidocr")
    try:
        cls = ENGINES[name]
    except KeyError:
        raise ValueError(f"unknown OCR engine {name!r}; known: {sorted(ENGINES)}") from None
    # the config's engine section may hold options of other engines (the default file sets
    # rapidocr's): those are ignored; an option no engine knows is a typo
    known_any = {f.name for c in set(ENGINES.values()) for f in fields(c)}
    unknown = set(spec) - known_any
    if unknown:
        raise ValueError(f"unknown engine option(s) {sorted(unknown)}")
    mine = {f.name for f in fields(cls) if f.init}
    return cls(**{k: v for k, v in spec.items() if k in mine})
