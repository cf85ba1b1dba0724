"""MMD-v2 and MMD-v3 builds on the shared core.

Work units: one per dialog file (split from its folder), one per product file, one per image
file, and one for the states file. `--raw` may hold Saha's `dataset/v2/{train,valid,test}` or Nie's
`dialogs_final/{train,valid,test}` layout; side files are found by name anywhere below it.
"""

from __future__ import annotations

import json
import os
import posixpath
from dataclasses import dataclass, field

from pipelines.core import io
from pipelines.core.builder import Builder, UsageError, WorkUnit
from pipelines.core.context import Reject, ShardContext
from pipelines.core.images import image_row
from pipelines.core.splits import normalise_split_name
from pipelines.mmd import images as img
from pipelines.mmd import states as st
from pipelines.mmd.reader import parse_dialog
from pipelines.mmd.transforms import DEFAULT_CONTEXT_TURNS, product_row, rec_sample_rows, turn_row
from pipelines.privacy.hooks import check_build_masking, text_config, with_privacy_tables, with_text_privacy

SPLIT_FOLDERS = {"train": "train", "valid": "valid", "dev": "valid", "val": "valid", "test": "test"}
PRODUCT_FOLDERS = ("products", "raw_catalogs")


SPLIT_ORDER = {"train": 0, "valid": 1, "test": 2}


def _duplicate_dialogs(units: list[WorkUnit]) -> list[WorkUnit]:
    """A dialog id (the file stem) is unique across splits: later copies (train before valid
    before test, then by path) become dead letters naming the kept file."""
    kept: dict[str, str] = {}
    out = []
    for u in sorted(units, key=lambda u: (u.kind != "dialog", SPLIT_ORDER.get(u.split, 9), u.path)):
        if u.kind == "dialog":
            first = kept.setdefault(img.stem(u.path), u.path)
            if first != u.path:
                out.append(WorkUnit("dialog_duplicate", u.path, u.size, split=u.split, key=first))
                continue
        out.append(u)
    return out


def _check_states(path: str) -> None:
    """A Parquet states file must open (a JSONL one is checked line by line, as dead letters)."""
    if not path.endswith(".parquet"):
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pq.read_metadata(pa.BufferReader(io.read_bytes(path)))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise UsageError(f"--states {path}: not a readable Parquet file ({exc})") from None


def product_doc(data: bytes) -> dict:
    """A product file's JSON object; the one acceptance rule of the product unit and of the
    dialog shards that decide which product ids a sample may name."""
    doc = json.loads(data)
    if not isinstance(doc, dict):
        raise Reject(f"wrong type: a product file must be a JSON object, got {type(doc).__name__}")
    return doc


def published_products(paths: list[str]) -> set[str]:
    """Ids (file stems) of the product files that the build publishes."""
    out = set()
    for path in paths:
        try:
            product_doc(io.read_bytes(path))
        except Exception:  # noqa: BLE001 - whatever makes the product unit dead-letter it (deep JSON: RecursionError)
            continue
        out.add(img.stem(path))
    return out


def find_named(files: list[tuple[str, int]], name: str) -> str | None:
    hits = [p for p, _ in files if posixpath.basename(p) == name]
    return sorted(hits, key=len)[0] if hits else None


@dataclass
class MMDBuilder(Builder):
    raw: str
    images_dir: str | None = None
    states_path: str | None = None
    v3: bool = False
    context_turns: int = DEFAULT_CONTEXT_TURNS
    embed_image_bytes: bool = True
    mask: object = None  # a pipelines.privacy.stage.PrivacyMasker (--mask-images), else None
    deidentify_text: object = None  # a pipelines.privacy.text.TextDeidentifier (--deidentify-text), else None
    _resolver: img.ImageResolver | None = field(default=None, repr=False, compare=False)
    _states: dict | None = field(default=None, repr=False, compare=False)
    _url2img: str | None = None
    _image_id: str | None = None
    _product_paths: list[str] = field(default_factory=list, repr=False, compare=False)
    _products: frozenset[str] | None = field(default=None, repr=False, compare=False)

    splits = ("train", "valid", "test")
    dialog_tables = ("dialogs", "turns", "rec_samples", "dialog_states", "missing_images")
    shared_tables = ("products", "images")
    # dialog and product shards hash images into their rows; dialog shards keep in rec_samples only
    # the products that publish, so a product file's content is part of every shard's fingerprint
    shared_kinds = ("image", "product")
    content_keyed_kinds = ("image",)
    primary_kinds = ("dialog",)
    derived_stages = ("rec_samples.references",)

    def __post_init__(self):
        self.dataset = "mmd-v3" if self.v3 else "mmd"
        if self.v3 and not self.states_path:
            raise UsageError("MMD-v3 needs --states FILE (the dialog-state annotations)")
        check_build_masking(self.mask, self.embed_image_bytes)

    def layout(self) -> dict[str, tuple[str, ...]]:
        return with_privacy_tables(super().layout(), self.mask)

    # -- launcher side --------------------------------------------------------------------
    def plan(self) -> list[WorkUnit]:
        if not io.exists(self.raw):
            raise UsageError(f"--raw {self.raw}: no such folder")
        files = io.list_files(self.raw)
        if self.images_dir is None:
            guess = io.join(self.raw, "images")
            self.images_dir = guess if io.exists(guess) else None
        elif not io.exists(self.images_dir):
            raise UsageError(f"--images {self.images_dir}: no such folder")
        self._url2img = find_named(files, "url2img.txt")
        self._image_id = find_named(files, "image_id.json")
        units: list[WorkUnit] = []
        image_root = (self.images_dir or "\0").rstrip("/") + "/"
        for path, size in files:
            parts = path.split("/")
            if not path.endswith(".json") or path.startswith(image_root):
                continue
            parent = parts[-2] if len(parts) > 1 else ""
            if parent in SPLIT_FOLDERS:
                units.append(WorkUnit("dialog", path, size, split=SPLIT_FOLDERS[parent]))
            elif any(f in parts[:-1] for f in PRODUCT_FOLDERS):
                units.append(WorkUnit("product", path, size))
        if not any(u.kind == "dialog" for u in units):
            raise UsageError(f"--raw {self.raw}: no dialog files (expected JSON files in folders named train/valid/test)")
        units = _duplicate_dialogs(units)
        self._product_paths = sorted(u.path for u in units if u.kind == "product")
        self._check_side_files()
        if self.images_dir:
            for path, size in io.list_files(self.images_dir):
                if path.lower().endswith(img.IMAGE_EXTENSIONS):
                    units.append(WorkUnit("image", path, size))
        if self.states_path:
            if not io.exists(self.states_path):
                raise UsageError(f"--states {self.states_path}: no such file")
            if "://" not in self.states_path and os.path.isdir(self.states_path):
                raise UsageError(f"--states {self.states_path}: a folder; expected a JSONL or Parquet file")
            _check_states(self.states_path)
            units.append(WorkUnit("states", self.states_path, max(1, len(io.read_bytes(self.states_path)))))
        return units

    def _check_side_files(self) -> None:
        """Side files every worker loads whole: unreadable ones stop the build here (exit 2),
        not as a traceback in every worker."""
        try:
            img.load_image_ids(self._image_id)
        except (ValueError, AttributeError, TypeError) as exc:
            raise UsageError(f"{self._image_id}: malformed image_id.json ({type(exc).__name__}: {exc})") from None

    def config(self) -> dict:
        return {
            **text_config(self.deidentify_text),
            "variant": self.dataset,
            "context_turns": self.context_turns,
            "embed_image_bytes": self.embed_image_bytes,
            "images": bool(self.images_dir),
            "states": bool(self.states_path),
            "privacy": self.mask.config() if self.mask is not None else None,
        }

    def side_files(self) -> dict[str, str]:
        return {k: v for k, v in {"url2img": self._url2img, "image_id": self._image_id, "states": self.states_path}.items() if v}

    def required_side_files(self) -> tuple[str, ...]:
        return ("states",) if self.v3 else ()  # MMD-v3 is the dialogs that have states

    def table_stats(self, table: str, rows: list[dict]) -> dict[str, float]:
        if table == "rec_samples":
            return {
                "samples": len(rows),
                "positives": sum(r["num_positives"] for r in rows),
                "negatives": sum(r["num_negatives"] for r in rows),
            }
        return {}

    # -- worker side ----------------------------------------------------------------------
    def setup(self) -> None:
        self._resolver = img.ImageResolver(self.images_dir, img.load_url2img(self._url2img), img.load_image_ids(self._image_id))
        self._states = st.load_valid_states(self.states_path) if self.states_path else {}
        self._products = frozenset(published_products(self._product_paths)) if self._product_paths else None
        if self.mask is not None:
            self.mask.setup()  # the OCR engine: once per worker

    def process(self, unit: WorkUnit, ctx: ShardContext) -> None:
        ctx = with_text_privacy(ctx, self.deidentify_text)  # free-text columns de-identified as emitted
        handler = {
            "dialog": self._dialog,
            "dialog_duplicate": self._duplicate,
            "product": self._product,
            "image": self._image,
            "states": self._states_unit,
        }[unit.kind]
        handler(unit, ctx)

    def _dialog(self, unit: WorkUnit, ctx: ShardContext) -> None:
        data = ctx.read(unit)
        dialog_id = img.stem(unit.path)
        split = normalise_split_name(unit.split)
        refused: dict[tuple[str, str], list[str]] = {}
        committed = False
        with ctx.record("parse", unit.path, dialog_id, raw=data, split=split) as rec:
            utts = parse_dialog(data)
            states = self._states.get(dialog_id, [])
            if self.v3 and not states:
                rec.filter_out()
                return
            ids_by_turn: dict[int, list[str]] = {}
            for u in utts:
                ids = []
                for ref in u.images:
                    ctx.add_stat("turn_image_refs")
                    image_id, reason = self._resolver.resolve(ref)
                    if image_id:
                        ids.append(image_id)
                        ctx.add_stat("turn_images_resolved")
                    else:
                        ctx.add_stat("turn_images_missing")
                        ctx.emit(
                            "missing_images",
                            {"dialog_id": dialog_id, "split": split, "turn_index": u.index, "image_ref": ref, "reason": reason},
                        )
                ids_by_turn[u.index] = ids
                ctx.emit("turns", turn_row(dialog_id, split, u, ids))
            for row in rec_sample_rows(dialog_id, split, utts, ids_by_turn, self._resolver, self.context_turns, refused, self._products):
                ctx.emit("rec_samples", row)
            ctx.emit(
                "dialogs",
                {
                    "dialog_id": dialog_id,
                    "split": split,
                    "source": self.rel(unit.path),
                    "num_turns": len(utts),
                    "domain": None,
                    "meta": None,
                },
            )
            ctx.claim("dialog", dialog_id)
            self._dialog_states(unit, ctx, dialog_id, split, utts, states)
            committed = True
        if committed:
            self._refused_references(unit, ctx, dialog_id, split, utts, refused)

    def _refused_references(self, unit, ctx, dialog_id, split, utts, refused) -> None:
        """Stage `rec_samples.references`, one record per distinct image reference a published
        dialog's samples use: out when it names a product, else one dead letter naming the
        reference, why, and the rec_samples it was left out of."""
        used = {r for u in utts if u.speaker == "system" and u.images and u.false_images for r in (*u.images, *u.false_images)}
        ctx.count("rec_samples.references", out=len(used - {ref for ref, _ in refused}))
        for (ref, why), samples in sorted(refused.items()):
            names = sorted(set(samples))
            ctx.reject(
                "rec_samples.references",
                self.rel(unit.path),
                f"{dialog_id}:{ref}",
                f"image reference {ref!r} refused ({why}): its product id is left out of rec_samples {names}"[:600],
                raw={"image_ref": ref, "rec_samples": names},
                split=split,
            )

    def _dialog_states(self, unit, ctx, dialog_id, split, utts, states) -> None:
        for s in states:
            with ctx.record("states.turn", self.states_path, f"{dialog_id}:{s['turn_index']}", raw=s, split=split):
                if s["turn_index"] >= len(utts):
                    raise Reject(f"turn_index {s['turn_index']} beyond the dialog's {len(utts)} turns")
                if utts[s["turn_index"]].speaker != "user":
                    raise Reject(f"turn_index {s['turn_index']} is a system turn; states belong to user turns")
                ctx.emit("dialog_states", {**s, "dialog_id": dialog_id, "split": split, "slots": list(s["slots"].items())})

    def _states_unit(self, unit: WorkUnit, ctx: ShardContext) -> None:
        data = ctx.read(unit)
        for locator, raw in st.iter_state_records(unit.path, data):
            with ctx.record("states.parse", unit.path, locator, raw=raw):
                s = st.validate_state(st.decode(raw))
                ctx.expect("dialog", s["dialog_id"], "states.join", unit.path, locator, raw)

    def _product(self, unit: WorkUnit, ctx: ShardContext) -> None:
        data = ctx.read(unit)
        with ctx.record("products", unit.path, img.stem(unit.path), raw=data):
            doc = product_doc(data)
            ctx.emit("products", {**product_row(unit.path, doc, self._resolver), "source": self.rel(unit.path)})

    def _duplicate(self, unit: WorkUnit, ctx: ShardContext) -> None:
        ctx.reject(
            "parse",
            unit.path,
            img.stem(unit.path),
            f"duplicate dialog id {img.stem(unit.path)!r}: already built from {unit.key}",
            split=normalise_split_name(unit.split),
        )

    def _image(self, unit: WorkUnit, ctx: ShardContext) -> None:
        data = ctx.read(unit)
        name = posixpath.basename(unit.path)
        with ctx.record("images", unit.path, name, raw=None):
            row = image_row(data, name, self.rel(unit.path), embed=self.embed_image_bytes)
            if self.mask is not None:
                self.mask.emit(ctx, row)  # masked row, or quarantine (+ manual-check candidate)
            else:
                ctx.emit("images", row)
