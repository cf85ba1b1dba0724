"""`PrivacyMasker`: the reusable masking step any data-set builder (and `mmdial mask`) calls.

A builder keeps one masker (it pickles small: only the config travels), calls `setup()` from its
own `setup()` (so the OCR engine is built once per worker), and where it would emit an `images`
row calls `masker.emit(ctx, row, category=...)` instead. `emit` publishes the masked row, or
quarantines the image, and lists it as a manual-check candidate when nothing was masked. See
pipelines/privacy/README.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass, field

from pipelines.privacy import audit as au
from pipelines.privacy import metadata
from pipelines.privacy.codec import DecodeError, decode, encode, encode_animation
from pipelines.privacy.engines import OCREngine, TextLine, make_engine
from pipelines.privacy.hooks import PRIVACY_TABLES, check_build_masking, with_privacy_tables  # noqa: F401 - re-exported
from pipelines.privacy.masker import Mask, fill, finalise, plan_masks
from pipelines.privacy.policy import Policy, load_config
from pipelines.privacy.quarantine import Quarantined, candidate_row, quarantine_row
from pipelines.privacy.recognizers import RecognizerSet, registry_digest

DONE_STATUSES = ("masked", "manual_masked", "clean")


@dataclass
class MaskOutcome:
    """What masking one image produced. `status`: masked, unchecked (no mask; a candidate),
    quarantined, or passthrough (the input row was already processed)."""

    status: str
    image: dict | None = None
    quarantine: dict | None = None
    candidate: dict | None = None
    masks: list[Mask] = field(default_factory=list)
    lines: list[TextLine] = field(default_factory=list)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class PrivacyMasker:
    """Masks `images` rows. `cfg`: a policy config (`policy.load_config`); `engine_factory`
    replaces the configured engine (tests hand in a fake)."""

    def __init__(self, cfg: dict | None = None, engine_factory: Callable[[], OCREngine] | None = None):
        self.cfg = cfg if cfg is not None else load_config()
        self.policy = Policy(self.cfg)
        self.engine_factory = engine_factory
        self._engine: OCREngine | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._recognizers: RecognizerSet | None = None
        self._engine_info: dict | None = None
        self._recognizer_info: dict | None = None

    # -- pickling: only the config goes to workers ------------------------------------------
    def __getstate__(self):
        state = dict(self.__dict__)
        for k in ("_engine", "_executor", "_recognizers", "_engine_info", "_recognizer_info"):
            state[k] = None
        return state

    def config(self) -> dict:
        """What changes the output (for a builder's `config()` and the shard fingerprint)."""
        return {
            "policy_sha256": self.policy.sha256,
            "registry_sha256": registry_digest(self.cfg.get("recognizer_files") or []),
            "policy": self.cfg.get("policy"),
            "engine": dict(self.cfg.get("engine") or {}),
        }

    # -- once per worker ----------------------------------------------------------------------
    def setup(self) -> None:
        if self._engine is not None:
            return
        self._engine = self._new_engine()
        self._engine_info = self._engine.info()
        files = self.cfg.get("recognizer_files") or []
        self._recognizers = RecognizerSet.build(self.cfg.get("recognizers"), self.cfg.get("vocabularies") or {}, files)
        vocab = {r.name: {"terms": getattr(r, "size", 0)} for r in self._recognizers.recognizers if hasattr(r, "size")}
        self._recognizer_info = {"names": self._recognizers.names, "vocabularies": vocab, "registry_sha256": registry_digest(files)}
        if self._timeout():
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mmdial-ocr")

    def _new_engine(self) -> OCREngine:
        return self.engine_factory() if self.engine_factory else make_engine(self.cfg.get("engine") or {})

    def _timeout(self) -> float:
        return float((self.cfg.get("limits") or {}).get("timeout_s") or 0)

    @property
    def engine(self) -> OCREngine:
        self.setup()
        return self._engine

    def ocr(self, bgr) -> list[TextLine]:
        """The engine under the time limit; failures become `Quarantined`."""
        self.setup()
        limit = self._timeout()
        try:
            if not limit:
                return self._engine.ocr(bgr)
            future = self._executor.submit(self._engine.ocr, bgr)
            return future.result(timeout=limit)
        except FuturesTimeout:
            # the stuck call keeps its thread and engine; later images get fresh ones
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mmdial-ocr")
            self._engine = self._new_engine()
            raise Quarantined("ocr_timeout", f"OCR ran past limits.timeout_s={limit:g}s") from None
        except Exception as exc:  # noqa: BLE001 - any engine failure quarantines the image
            raise Quarantined("ocr_error", f"{type(exc).__name__}: {exc}") from exc

    # -- per image ----------------------------------------------------------------------------
    def claim_verified(self, row: dict) -> bool:
        """A row claiming `masked`/`manual_masked`/`clean` is trusted only when its audit's
        `output_sha256` is the hash of the bytes it carries (anything else is masked again)."""
        data = row.get("data")
        if data is None:
            return False
        try:
            audit = au.loads(row.get("privacy_audit"))
        except ValueError:
            return False
        return isinstance(audit, dict) and audit.get("output_sha256") == sha256_hex(data)

    def mask(self, row: dict, category: str | None = None) -> MaskOutcome:
        self.setup()
        status_in = row.get("privacy_status") or "unchecked"
        claim = None
        if status_in in DONE_STATUSES:
            if self.claim_verified(row) and not metadata.carried(row["data"]):
                return MaskOutcome("passthrough", image=row)
            claim, status_in = status_in, "unchecked"  # fail closed: a claim without proof is checked again
        image_id = row.get("image_id") or ""
        eff = self.policy.for_category(category)
        data = row.get("data")
        try:
            if status_in == "quarantined":
                raise Quarantined("input_quarantined", "the input row is marked quarantined")
            if data is None:
                data = self._read_uri(row)
            image_id = image_id or sha256_hex(data)
            limits = self.cfg.get("limits") or {}
            try:
                decoded = decode(data, int(limits.get("max_pixels", 40_000_000)), int(limits.get("max_frames", 16)))
            except DecodeError as exc:
                raise Quarantined(exc.code, str(exc)) from exc
            flat = int((self.cfg.get("fast_path") or {}).get("flat_range", -1))
            views = []  # (frame, view name, lines)
            ocr_cache: dict[bytes, list[TextLine]] = {}
            for k, (frame_idx, pic) in enumerate(decoded.views()):
                view = "shown" if k < len(decoded.frames) else "hidden"
                if flat >= 0 and int(pic.max()) - int(pic.min()) <= flat:
                    views.append((frame_idx, view, []))
                    continue
                key = hashlib.sha256(pic.tobytes()).digest() if decoded.animated or decoded.hidden[frame_idx] is not None else b""
                if key and key in ocr_cache:
                    views.append((frame_idx, view, ocr_cache[key]))
                    continue
                lines_k = self.ocr(pic)
                if key:
                    ocr_cache[key] = lines_k
                views.append((frame_idx, view, lines_k))
            fast = "flat_image" if all(self._flat_flags(decoded, flat)) else None
            lines = views[0][2]
            try:
                bgr = decoded.bgr
                h, w = bgr.shape[:2]
                masks: list[Mask] = []
                for frame_idx, view, ls in views:
                    matches = self._recognizers.recognise(ls) if eff.policy == "pii" else []
                    for m in finalise(plan_masks(ls, matches, eff), w, h):
                        m.frame, m.view = frame_idx, view
                        masks.append(m)
                colour = eff.masking.get("fill", [0, 0, 0])
                meta_in = metadata.carried(data)
                out = None
                if not (masks or decoded.canonical or decoded.transposed):  # the original's pixels, no metadata
                    out = metadata.strip(data, decoded.format)
                    if out is not None and metadata.carried(out):
                        out = None
                if out is None:
                    filled = [fill(f, [m.polygon for m in masks if m.frame == i], colour) for i, f in enumerate(decoded.frames)]
                    if decoded.animated:
                        out, fmt = encode_animation(filled, decoded.durations)
                    else:
                        out, fmt = encode(filled[0], decoded.format, int(eff.masking.get("jpeg_quality", 92)))
                    status = "masked" if masks else "unchecked"
                    width, height = w, h
                    if not masks:
                        fast = fast or "canonical_reencode"
                    how = "reencoded"
                else:
                    fmt = row.get("format") or decoded.format
                    status = "unchecked"
                    width = row.get("width") or w
                    height = row.get("height") or h
                    fast = fast or "no_mask_passthrough"
                    how = "stripped" if out != data else "none_present"
                left = metadata.carried(out)
                if left:
                    raise RuntimeError(f"published bytes still carry metadata: {left}")
            except Exception as exc:  # noqa: BLE001 - a masking bug must not publish the original
                raise Quarantined("mask_error", f"{type(exc).__name__}: {exc}") from exc
        except Quarantined as q:
            return self._quarantine(row, image_id or (sha256_hex(data) if data else ""), q, eff)
        extra = {
            "recognizers": self._recognizer_info,
            "frames": len(decoded.frames),
            "views": len(views),
            "metadata": {"removed": meta_in, "method": how, "published": []},
        }
        if claim:
            extra["claim_unverified"] = claim
        rec = au.build(
            input_sha256=sha256_hex(data),
            output_sha256=sha256_hex(out),
            engine=self._engine_info,
            policy_sha256=self.policy.sha256,
            effective=eff.as_audit(),
            lines=sum(len(ls) for _, _, ls in views),
            masks=[m.to_audit() for m in masks],
            fast_path=fast,
            status=status,
            extra=extra,
        )
        image = {
            **row,
            "image_id": image_id,
            "data": out,
            "width": width,
            "height": height,
            "format": fmt,
            "privacy_status": status,
            "privacy_audit": au.dumps(rec),
        }
        cand = None if masks else candidate_row(row, image_id, "no_auto_mask", "unchecked", len(lines))
        return MaskOutcome(status, image=image, candidate=cand, masks=masks, lines=lines)

    @staticmethod
    def _flat_flags(decoded, flat: int) -> list[bool]:
        return [flat >= 0 and int(p.max()) - int(p.min()) <= flat for _, p in decoded.views()]

    def _read_uri(self, row: dict) -> bytes:
        from pipelines.core import io

        uri = row.get("uri")
        if not uri:
            raise Quarantined("missing_bytes", "the row has neither bytes nor a uri")
        try:
            return io.read_bytes(uri)
        except Exception as exc:  # noqa: BLE001
            raise Quarantined("missing_bytes", f"cannot read {uri}: {type(exc).__name__}: {exc}") from exc

    def _quarantine(self, row: dict, image_id: str, q: Quarantined, eff) -> MaskOutcome:
        rec = au.build(
            input_sha256=image_id,
            output_sha256=None,
            engine=self._engine_info,
            policy_sha256=self.policy.sha256,
            effective=eff.as_audit(),
            lines=None,
            masks=[],
            fast_path=None,
            status="quarantined",
            extra={"quarantine": {"code": q.code, "reason": q.reason}},
        )
        qrow = quarantine_row(row, q.code, q.reason, au.dumps(rec), image_id)
        cand = candidate_row(row, image_id, "quarantined", "quarantined", None)
        return MaskOutcome("quarantined", quarantine=qrow, candidate=cand)

    # -- for builders -------------------------------------------------------------------------
    def emit(self, ctx, row: dict, category: str | None = None) -> MaskOutcome:
        """Mask `row` and emit the results into a build's `ShardContext` (inside the caller's record)."""
        outcome = self.mask(row, category)
        if outcome.image is not None:
            ctx.emit("images", outcome.image)
        if outcome.quarantine is not None:
            ctx.emit("privacy_quarantine", outcome.quarantine)
            ctx.add_stat(f"privacy.quarantined.{outcome.quarantine['reason_code']}")
        if outcome.candidate is not None:
            ctx.emit("privacy_candidates", outcome.candidate)
        ctx.add_stat(f"privacy.{outcome.status}")
        for m in outcome.masks:
            for e in m.entities:
                ctx.add_stat(f"privacy.masks.{e}")
        return outcome

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


# -- what a data set builder needs to offer --mask-images ---------------------------------------
