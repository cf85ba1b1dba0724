"""SIMMC 2.0 / 2.1 build on the shared core: dialogs, turns, states, recommendation samples, crops.

Work units (planned from `--raw` in any layout, files found by name, see files.py):
- `dialogs`: a byte range of whole dialogs of one split file (`dialogs_tail`: the undecodable
  rest of a truncated file; `dialogs_whole`: a file whose top level could not be scanned);
- `scene`: one `<scene>_scene.json` with its screenshot. Scenes are shared by many dialogs, so
  products and crops are emitted here and only here, once per scene object (`<scene>:<index>`).

Dialog units reference product ids only. Before emitting a sample they judge its scene with the
same `check_scene` the scene unit uses (scenes.py), so a sample whose scene JSON, screenshot or
prefab entry is missing is dead-lettered with that reason while the rest of the dialog builds.
Every kept sample also `expect`s its scene, which the scene unit `claim`s once all its objects
became products: anything the dialog side could not see (a screenshot whose pixels do not
decode) still surfaces as a dead letter of the reference check.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field

from pipelines.core import io
from pipelines.core.builder import Builder, UsageError, WorkUnit
from pipelines.core.context import Reject, ShardContext
from pipelines.core.images import image_row
from pipelines.privacy.hooks import text_config, with_text_privacy
from pipelines.simmc import files as fl
from pipelines.simmc import scenes as sc
from pipelines.simmc.reader import file_meta, parse_dialog
from pipelines.simmc.transforms import (
    DEFAULT_CONTEXT_TURNS,
    OBJECT_SIDES,
    dialog_row,
    product_row,
    rec_sample_row,
    sample_turns,
    state_rows,
    turn_rows,
    utterances,
)

VERSIONS = ("auto", "2.0", "2.1")
CROP_FORMATS = ("jpeg", "png")
SCENE_NAMESPACE = "scene"


@dataclass
class SIMMCBuilder(Builder):
    raw: str
    version: str = "auto"
    objects_from: str = "user"
    context_turns: int = DEFAULT_CONTEXT_TURNS
    crop_format: str = "jpeg"
    jpeg_quality: int = 90
    with_mini: bool | None = None  # None: only when there is no train file
    chunk_bytes: int = fl.DEFAULT_CHUNK_BYTES
    embed_image_bytes: bool = True
    deidentify_text: object = None  # a pipelines.privacy.text.TextDeidentifier (--deidentify-text), else None
    _index: fl.RawIndex | None = field(default=None, repr=False, compare=False)
    _resolved_version: str | None = None
    _scenes: sc.SceneIndex | None = field(default=None, repr=False, compare=False)

    dataset = "simmc"
    splits = ("train", "valid", "devtest", "teststd", "mini")
    dialog_tables = ("dialogs", "turns", "rec_samples", "dialog_states")
    shared_tables = ("products", "images")
    shared_kinds = ("scene",)  # dialog shards judge the scenes their samples and turns name
    primary_kinds = ("dialogs", "dialogs_tail", "dialogs_whole")

    def __post_init__(self):
        if self.version not in VERSIONS:
            raise UsageError(f"--version must be one of {VERSIONS}, got {self.version!r}")
        if self.objects_from not in OBJECT_SIDES:
            raise UsageError(f"--objects-from must be one of {OBJECT_SIDES}, got {self.objects_from!r}")
        if self.crop_format not in CROP_FORMATS:
            raise UsageError(f"--crop-format must be one of {CROP_FORMATS}, got {self.crop_format!r}")

    # -- launcher side --------------------------------------------------------------------
    def plan(self) -> list[WorkUnit]:
        if not io.exists(self.raw):
            raise UsageError(f"--raw {self.raw}: no such folder")
        self._index = index = fl.index_raw(io.list_files(self.raw))
        chosen = fl.choose_dialog_files(index.dialog_files, self.version, self.with_mini)
        if not chosen:
            raise UsageError(
                f"--raw {self.raw}: no SIMMC dialog files (simmc2_dials_dstc10_<split>.json or "
                f"simmc2.1_dials_dstc11_<split>.json{'' if self.version == 'auto' else ' of version ' + self.version})"
            )
        self._resolved_version = chosen[0].version
        try:
            sc.load_prefab_metadata([p for p, _ in index.prefab_files])
        except (OSError, ValueError) as exc:
            raise UsageError(f"prefab metadata unusable: {exc}") from None
        units: list[WorkUnit] = []
        for f in chosen:
            units.extend(self._dialog_units(f))
        # scenes drawn on the same screenshot (`x` and `m_x`) share one unit: their identical crops
        # are then published once (images.image_id is unique) by whichever scene comes first
        lookup = sc.SceneIndex(index.scenes, index.screenshots, {})
        groups: dict[str, list[str]] = {}
        for name in sorted(index.scenes):
            groups.setdefault(lookup.screenshot_of(name)[0], []).append(name)
        for names in groups.values():
            size = sum(index.scenes[n][1] for n in names) + lookup.screenshot_of(names[0])[2]
            units.append(WorkUnit("scene", index.scenes[names[0]][0], size, key=json.dumps(names)))
        return units

    def shared_inputs(self) -> list[str]:
        """Dialog shards judge scenes (JSON, screenshot header, prefab): all of them count."""
        if not self._index:
            return []
        return sorted({p for p, _ in self._index.scenes.values()} | {p for p, _ in self._index.screenshots.values()})

    def _dialog_units(self, f: fl.DialogFile) -> list[WorkUnit]:
        data = io.read_bytes(f.path)
        base = {"version": f.version, "published": f.published_split}
        try:
            scan = fl.scan_dialog_file(data)
        except fl.ScanError as exc:
            return [
                WorkUnit(
                    "dialogs_whole", f.path, max(1, f.size), split=f.split, key=json.dumps({**base, "scan_error": str(exc)}, sort_keys=True)
                )
            ]
        base["meta"] = file_meta(scan.header)
        units = [
            WorkUnit("dialogs", f.path, end - start, start, end, split=f.split, key=json.dumps({**base, "first": first}, sort_keys=True))
            for first, start, end in fl.chunk_spans(scan.spans, self.chunk_bytes)
        ]
        if scan.tail is not None:
            start, end = scan.tail
            units.append(
                WorkUnit(
                    "dialogs_tail",
                    f.path,
                    max(1, end - start),
                    start,
                    end,
                    split=f.split,
                    key=json.dumps({**base, "first": len(scan.spans)}, sort_keys=True),
                )
            )
        return units

    def config(self) -> dict:
        return {
            **text_config(self.deidentify_text),
            "version": self._resolved_version or self.version,
            "objects_from": self.objects_from,
            "context_turns": self.context_turns,
            "crop_format": self.crop_format,
            "jpeg_quality": self.jpeg_quality if self.crop_format == "jpeg" else None,
            "with_mini": self.with_mini,
            "embed_image_bytes": self.embed_image_bytes,
            "side_files_digest": self._index.digest() if self._index else None,
        }

    def side_files(self) -> dict[str, str]:
        if not self._index:
            return {}
        return {f"prefab:{posixpath.basename(p)}": p for p, _ in self._index.prefab_files}

    def table_stats(self, table: str, rows: list[dict]) -> dict[str, float]:
        if table == "rec_samples":
            return {
                "samples": len(rows),
                "positives": sum(r["num_positives"] for r in rows),
                "negatives": sum(r["num_negatives"] for r in rows),
            }
        if table == "images":
            return {"crops": len(rows), "crop_bytes": sum(len(r["data"] or b"") for r in rows)}
        return {}

    # -- worker side ----------------------------------------------------------------------
    def setup(self) -> None:
        index = self._index
        prefab = sc.load_prefab_metadata([p for p, _ in index.prefab_files])
        self._scenes = sc.SceneIndex(index.scenes, index.screenshots, prefab)

    def process(self, unit: WorkUnit, ctx: ShardContext) -> None:
        ctx = with_text_privacy(ctx, self.deidentify_text)  # free-text columns de-identified as emitted
        handler = {
            "dialogs": self._dialogs,
            "dialogs_tail": self._dialogs_tail,
            "dialogs_whole": self._dialogs_whole,
            "scene": self._scene,
        }[unit.kind]
        handler(unit, ctx)

    def _source(self, path: str) -> str:
        return self.rel(path)

    def _dialogs(self, unit: WorkUnit, ctx: ShardContext) -> None:
        info = json.loads(unit.key)
        for k, (doc, text) in enumerate(fl.iter_dialogs(ctx.read(unit))):
            self._dialog(unit, ctx, doc, info["first"] + k, info, raw=text)

    def _dialogs_tail(self, unit: WorkUnit, ctx: ShardContext) -> None:
        info = json.loads(unit.key)
        data = ctx.read(unit)
        with ctx.record("dialogs", unit.path, f"dialogue_data[{info['first']}:]", raw=data, split=unit.split):
            if not data.strip():
                raise Reject(f"file ends inside dialogue_data after {info['first']} dialogs (truncated)")
            try:
                json.loads(data)
            except ValueError as exc:
                raise Reject(f"dialogs from dialogue_data[{info['first']}] on do not decode (truncated or corrupt file): {exc}") from None
            raise Reject(f"unexpected data after dialogue_data[{info['first'] - 1}]")

    def _dialogs_whole(self, unit: WorkUnit, ctx: ShardContext) -> None:
        info = json.loads(unit.key)
        data = ctx.read(unit)
        with ctx.record("dialog_files", unit.path, posixpath.basename(unit.path), raw=data, split=unit.split):
            doc = json.loads(data)
            if not isinstance(doc, dict):
                raise Reject(f"wrong type: a dialog file must be a JSON object, got {type(doc).__name__}")
            dialogs = doc.get("dialogue_data")
            if not isinstance(dialogs, list):
                raise Reject(f"wrong type: dialogue_data must be a list of dialogs, got {type(dialogs).__name__}")
            info["meta"] = file_meta({k: v for k, v in doc.items() if k != "dialogue_data"})
            for k, d in enumerate(dialogs):
                self._dialog(unit, ctx, d, k, info)

    def _dialog(self, unit: WorkUnit, ctx: ShardContext, doc, position: int, info: dict, raw=None) -> None:
        split = unit.split
        idx = doc.get("dialogue_idx") if isinstance(doc, dict) else None
        locator = f"dialogue_idx={idx}" if isinstance(idx, int) and not isinstance(idx, bool) else f"dialogue_data[{position}]"
        with ctx.record("dialogs", unit.path, locator, raw=doc if raw is None else raw, split=split):
            dialog = parse_dialog(doc)
            utts = utterances(dialog)
            for row in turn_rows(dialog, split, utts, self._scenes.product_scene):
                self._resolvable_items(unit, ctx, row)
                ctx.emit("turns", row)
            meta = {"simmc_version": info["version"], "published_split": info["published"], "file": info.get("meta", {})}
            ctx.emit("dialogs", dialog_row(dialog, split, self._source(unit.path), len(utts), meta))
            for row in state_rows(dialog, split, utts):
                ctx.emit("dialog_states", row)
            # samples last: nothing after them can fail, so a sample counted `out` is really written
            for turn_index, turn, objects in sample_turns(utts, self.objects_from):
                self._sample(unit, ctx, dialog, utts, split, turn_index, turn, objects)

    def _resolvable_items(self, unit: WorkUnit, ctx: ShardContext, row: dict) -> None:
        """Keep in `turns.item_ids` only products the build publishes (the scene unit builds a
        product exactly when `check_scene` accepts its scene and object); each turn that loses
        ids is one dead letter naming them and the scene's reason."""
        kept, lost = [], {}
        for pid in row["item_ids"]:
            scene, _, index = pid.rpartition(":")
            status = self._scenes.status(scene)
            why = status.unusable() or (
                None if index.lstrip("-").isdigit() and int(index) in status.objects else f"object {index} is not in scene {scene}"
            )
            if why:
                lost[pid] = why
            else:
                kept.append(pid)
        if lost:
            row["item_ids"] = kept
            reasons = sorted(set(lost.values()))
            ctx.reject(
                "turns.item_ids",
                self._source(unit.path),
                f"{row['dialog_id']}:{row['turn_index']}",
                f"item id(s) {sorted(lost)} name no product of the build: " + "; ".join(reasons)[:400],
                raw={"item_ids": sorted(lost)},
                split=row["split"],
            )

    def _sample(self, unit, ctx, dialog, utts, split, turn_index, turn, objects) -> None:
        scene_name = dialog.scene_at(turn.turn_idx)
        raw = {"turn_idx": turn.turn_idx, "scene": scene_name, "objects": objects, "side": self.objects_from, "transcript": turn.transcript}
        with ctx.record("rec_samples", unit.path, f"{dialog.dialog_id}:{turn_index}", raw=raw, split=split):
            if scene_name is None:
                raise Reject(f"no scene in force at turn_idx {turn.turn_idx} (scene_ids start at {min(dialog.scene_ids)})")
            status = self._scenes.status(scene_name)
            why = status.unusable()
            if why:
                raise Reject(why)
            missing = [o for o in objects if o not in status.objects]
            if missing:
                raise Reject(f"object(s) {missing} referenced at turn_idx {turn.turn_idx} are not in scene {status.name}")
            row = rec_sample_row(dialog, split, utts, turn_index, status.name, objects, list(status.objects), self.context_turns)
            ctx.emit("rec_samples", row)
            ctx.expect(SCENE_NAMESPACE, status.name, "rec_samples.scene", self._source(unit.path), row["sample_id"], raw=raw)

    def _scene(self, unit: WorkUnit, ctx: ShardContext) -> None:
        names = json.loads(unit.key) if unit.key.startswith("[") else [unit.key]
        published: set[str] = set()
        for name in names:
            path = self._scenes.scenes[name][0]
            self._one_scene(name, path, ctx.read(WorkUnit("scene", path)), ctx, published)

    def _one_scene(self, name: str, path: str, data: bytes, ctx: ShardContext, published: set[str]) -> None:
        shot_name, shot_path, _ = self._scenes.screenshot_of(name)
        source = self._source(path)
        with ctx.record("scenes", path, name, raw=data):
            image, size = None, None
            if shot_path:
                image = sc.decode_screenshot(ctx.read(WorkUnit("screenshot", shot_path)))
                size = (image.shape[1], image.shape[0])
            status = sc.check_scene(name, data, size, shot_name, self._scenes.prefab)
            if status.error:
                raise Reject(f"scene {name}: {status.error}")
            built = 0
            keys = sorted(set(status.objects) | set(status.problems))
            for key in keys:
                obj = status.objects.get(key)
                locator = f"{name}:{key}" if key >= 0 else f"{name}:#{-key - 1}"
                raw = {"index": obj.index, "prefab_path": obj.prefab_path, "bbox": list(obj.bbox)} if obj else None
                with ctx.record("products", path, locator, raw=raw):
                    if key in status.problems:  # (a duplicate index is a problem even if its first copy parsed)
                        raise Reject(f"scene {name}: {status.problems[key]}")
                    self._product(ctx, name, obj, image, source, shot_name, shot_path, published)
                    built += 1  # not reached when the crop fails: that record is dead
            if not status.problems and built == len(status.objects):
                ctx.claim(SCENE_NAMESPACE, name)

    def _product(self, ctx, scene, obj, image, source, shot_name, shot_path, published: set[str]) -> None:
        data, width, height = sc.crop(image, obj, self.crop_format, self.jpeg_quality)
        pid = f"{scene}:{obj.index}"
        x, y, h, w = obj.bbox
        row = image_row(
            data,
            pid,
            f"{self.rel(shot_path)}#bbox={x},{y},{h},{w}",
            source="crop",
            embed=self.embed_image_bytes,
            size=(width, height, self.crop_format),
        )
        image_id = row["image_id"]
        if image_id not in published:  # the same crop of the same screenshot: one images row
            published.add(image_id)
            ctx.emit("images", row)
        else:
            ctx.add_stat("crops_shared")
        ctx.emit("products", product_row(scene, obj, self._scenes.prefab[obj.prefab_path], source, shot_name, image_id))
