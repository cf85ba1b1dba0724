"""JDDC 2.1 build on the shared core.

Work units:
- `messages`: a byte range of a message TSV (`data_*.txt` or `*.tsv`); ranges are cut at
  `range_bytes` and aligned to whole sessions by the reader (reader.py);
- `kb`: the knowledge base file (`kb.tsv` or `kb.jsonl`): triples -> `jddc_kb_triples`, and one
  `products` row per SKU;
- `categories`: `image_categories.jsonl`;
- `rewrites`, `discourse`, `summaries`: the annotation layers (`query_rewrites.jsonl`,
  `discourse.jsonl`, `summaries.jsonl`): each line is validated and its session reference is
  declared with `ctx.expect` (a session nobody builds -> dead letter);
- `image`: one per image file of the images folder.

The annotation layers are small (2,000 sessions in the paper), so every worker loads their valid
lines in `setup()`; the worker that builds a session joins that session's annotations right after
it, checking every EDU / turn index against the session's turns (an index outside the session ->
dead letter). Image categories are joined the same way by the worker that reads the image file.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from pipelines.core import io
from pipelines.core.builder import Builder, UsageError, WorkUnit
from pipelines.core.context import Reject, ShardContext
from pipelines.core.images import IMAGE_EXTENSIONS, image_row
from pipelines.core.resolver import ImageResolver
from pipelines.jddc import layers as ly
from pipelines.jddc.reader import OwnedRange, SessionLines, iter_owned_sessions, parse_message, plan_ranges
from pipelines.jddc.splits import annotated_splits, session_split
from pipelines.privacy.hooks import check_build_masking, text_config, with_privacy_tables, with_text_privacy
from schemas.core import SPLIT_SHARED

DEFAULT_RANGE_BYTES = 8 * 2**20
MESSAGE_FILE = re.compile(r"^(data_.*\.txt|.*\.tsv)$")
SESSION_NS = "jddc_session"
IMAGE_NS = "jddc_image_file"
NAME_ATTRIBUTES = ("商品名称", "名称", "品名", "name", "title")
CATEGORY_ATTRIBUTES = ("品类", "类别", "类目", "实体类型", "category", "entity_type")


def _find(files: list[tuple[str, int]], names) -> list[str]:
    names = (names,) if isinstance(names, str) else names
    return sorted((p for p, _ in files if posixpath.basename(p) in names), key=lambda p: (len(p), p))


def resolve_revisions(items: list[tuple[str, dict]], key) -> list[tuple[str, dict, str]]:
    """Mark each (locator, record) keep, superseded (a higher revision exists) or duplicate
    (same key and revision as an earlier line)."""
    best: dict[tuple, int] = {}
    for _, rec in items:
        k = key(rec)
        best[k] = max(best.get(k, 0), rec["version"])
    taken: set[tuple] = set()
    out = []
    for loc, rec in items:
        k = key(rec)
        if rec["version"] < best[k]:
            out.append((loc, rec, "superseded"))
        elif k in taken:
            out.append((loc, rec, "duplicate"))
        else:
            taken.add(k)
            out.append((loc, rec, "keep"))
    return out


@dataclass
class JDDCBuilder(Builder):
    raw: str
    images_dir: str | None = None
    range_bytes: int = DEFAULT_RANGE_BYTES
    embed_image_bytes: bool = True
    # found by plan() (launcher side), then pickled to workers with the builder
    kb_path: str | None = None
    categories_path: str | None = None
    layer_paths: dict[str, str] = field(default_factory=dict)
    mask: object = None  # a pipelines.privacy.stage.PrivacyMasker (--mask-images), else None
    deidentify_text: object = None  # a pipelines.privacy.text.TextDeidentifier (--deidentify-text), else None
    _layers: dict | None = field(default=None, repr=False, compare=False)
    _products: set | None = field(default=None, repr=False, compare=False)
    _annotated: dict | None = field(default=None, repr=False, compare=False)
    _categories: dict | None = field(default=None, repr=False, compare=False)
    _resolver: ImageResolver | None = field(default=None, repr=False, compare=False)

    dataset = "jddc"
    splits = ("train", "valid", "test")
    dialog_tables = ("dialogs", "turns", "missing_images", "jddc_query_rewrites", "jddc_discourse", "jddc_summaries")
    shared_tables = ("products", "images", "jddc_kb_triples", "jddc_image_categories")
    shared_kinds = ("image",)  # message shards hash the images their turns name
    content_keyed_kinds = ("image",)
    primary_kinds = ("messages",)

    def __post_init__(self):
        check_build_masking(self.mask, self.embed_image_bytes)

    def layout(self) -> dict[str, tuple[str, ...]]:
        return with_privacy_tables(super().layout(), self.mask)

    # -- launcher side --------------------------------------------------------------------
    def plan(self) -> list[WorkUnit]:
        if not io.exists(self.raw):
            raise UsageError(f"--raw {self.raw}: no such folder")
        files = io.list_files(self.raw)
        if self.images_dir is None:
            dirs = sorted(
                {posixpath.dirname(p) for p, _ in files if posixpath.basename(posixpath.dirname(p)) == "images"}, key=lambda p: (len(p), p)
            )
            self.images_dir = dirs[0] if dirs else None
        elif not io.exists(self.images_dir):
            raise UsageError(f"--images {self.images_dir}: no such folder")
        image_root = (self.images_dir or "\0").rstrip("/") + "/"
        kbs = _find(files, ly.KB_FILES)
        if len({posixpath.basename(p) for p in kbs}) > 1 or len(kbs) > 1:
            raise UsageError(f"--raw {self.raw}: more than one knowledge base file ({', '.join(kbs)}); keep one kb.tsv or kb.jsonl")
        self.kb_path = kbs[0] if kbs else None
        cats = _find(files, ly.CATEGORIES_FILE)
        self.categories_path = cats[0] if cats else None
        self.layer_paths = {layer: hits[0] for layer, name in ly.LAYER_FILES.items() if (hits := _find(files, name))}
        units: list[WorkUnit] = []
        for path, size in files:
            name = posixpath.basename(path)
            if path.startswith(image_root) or name in ly.KB_FILES or not MESSAGE_FILE.match(name):
                continue
            for start, end in plan_ranges(path, size, self.range_bytes):
                units.append(WorkUnit("messages", path, (size if end < 0 else end) - start, start, end))
        if not units:
            raise UsageError(f"--raw {self.raw}: no message files (expected data_*.txt or *.tsv, one message per line)")
        if self.kb_path:
            units.append(WorkUnit("kb", self.kb_path, _size(files, self.kb_path)))
        if self.categories_path:
            units.append(WorkUnit("categories", self.categories_path, _size(files, self.categories_path)))
        for layer, path in sorted(self.layer_paths.items()):
            units.append(WorkUnit(layer, path, _size(files, path)))
        if self.images_dir:
            for path, size in io.list_files(self.images_dir):
                if path.lower().endswith(IMAGE_EXTENSIONS):
                    units.append(WorkUnit("image", path, size))
        return units

    def config(self) -> dict:
        return {
            **text_config(self.deidentify_text),
            "range_bytes": self.range_bytes,
            "embed_image_bytes": self.embed_image_bytes,
            "images": bool(self.images_dir),
            "kb": bool(self.kb_path),
            "categories": bool(self.categories_path),
            "layers": sorted(self.layer_paths),
            "privacy": self.mask.config() if self.mask is not None else None,
        }

    def references(self) -> list[tuple[str, str, str, str]]:
        layers = [(t, "dialog_id", "dialogs", "dialog_id") for t in ("jddc_query_rewrites", "jddc_discourse", "jddc_summaries")]
        return layers + [
            ("jddc_image_categories", "image_id", "images", "image_id"),
            ("jddc_kb_triples", "product_id", "products", "product_id"),
        ]

    def side_files(self) -> dict[str, str]:
        out = {f"layer_{k}": v for k, v in self.layer_paths.items()}
        if self.kb_path:
            out["kb"] = self.kb_path  # message shards keep only SKUs the KB publishes
        if self.categories_path:
            out["image_categories"] = self.categories_path
        return out

    def table_stats(self, table: str, rows: list[dict]) -> dict[str, float]:
        if table == "turns":
            return {"text_chars": sum(len(r["text"]) for r in rows), "image_turns": sum(1 for r in rows if r["image_refs"])}
        if table == "jddc_summaries":
            return {"summary_chars": sum(r["summary_chars"] for r in rows)}
        if table == "jddc_query_rewrites":
            return {"rewritable": sum(1 for r in rows if r["rewritable"])}
        return {}

    # -- worker side ----------------------------------------------------------------------
    def _kb_product_ids(self) -> set[str]:
        """The SKUs the KB unit publishes as products (the same parse, into a scratch context):
        `turns.item_ids` keeps only these, so every published item id resolves."""
        if not self.kb_path:
            return set()
        scratch = ShardContext(self.dataset)
        self._kb(WorkUnit("kb", self.kb_path), scratch)
        return {r["product_id"] for r in scratch.rows.get("products", [])}

    def setup(self) -> None:
        if self.mask is not None:
            self.mask.setup()  # the OCR engine: once per worker
        self._resolver = ImageResolver(self.images_dir)
        self._products = self._kb_product_ids()
        self._layers = {layer: ly.load_layer(layer, path) for layer, path in self.layer_paths.items()}
        self._annotated = annotated_splits(sid for recs in self._layers.values() for sid in recs)
        self._categories = {}
        if self.categories_path and self.images_dir:
            items = [(loc, rec) for recs in ly.load_layer("categories", self.categories_path).values() for loc, rec in recs]
            for _loc, rec, status in resolve_revisions(items, lambda r: ly.layer_key("categories", r)):
                if status == "keep":
                    self._categories[rec["image"]] = rec

    def process(self, unit: WorkUnit, ctx: ShardContext) -> None:
        ctx = with_text_privacy(ctx, self.deidentify_text)  # free-text columns de-identified as emitted
        if unit.kind == "messages":
            self._messages(unit, ctx)
        elif unit.kind == "kb":
            self._kb(unit, ctx)
        elif unit.kind == "categories":
            self._categories_unit(unit, ctx)
        elif unit.kind == "image":
            self._image(unit, ctx)
        else:
            self._layer_unit(unit, ctx)

    # -- messages -> dialogs, turns, annotation joins ---------------------------------------
    def _messages(self, unit: WorkUnit, ctx: ShardContext) -> None:
        owned = OwnedRange()
        seen: set[str] = set()
        source = self.rel(unit.path)
        for group in iter_owned_sessions(unit.path, unit.start, unit.end, owned):
            self._session(unit, group, ctx, seen, source)
        ctx.sources.append({"path": unit.locator, "bytes": owned.bytes_owned, "sha256": owned.sha256})

    def _session(self, unit: WorkUnit, group: SessionLines, ctx: ShardContext, seen: set[str], source: str) -> None:
        sid = group.key.decode("utf-8", errors="replace") if group.key is not None else None
        split = session_split(sid, self._annotated) if sid else SPLIT_SHARED
        messages = []
        for offset, line in group.lines:  # one `record` block per message would double the cost
            try:
                messages.append(parse_message(offset, line))
            except Reject as exc:
                ctx.reject("messages", unit.path, f"offset {offset}", str(exc), raw=line, split=split)
        ctx.count("messages", len(messages))
        if sid is None:
            return  # lines before the first session id: already dead letters, no session to build
        raw = b"\n".join(line for _, line in group.lines[:5])
        built = None
        with ctx.record("sessions", unit.path, sid, raw=raw, split=split):
            if sid in seen:
                raise Reject(f"session {sid!r} appears again at offset {group.lines[0][0]}: a session's messages must be contiguous")
            if not messages:
                raise Reject(f"session {sid!r} has no valid message ({len(group.lines)} malformed)")
            built = self._emit_session(source, ctx, sid, split, messages, dropped=len(group.lines) - len(messages))
        seen.add(sid)
        if built is None:
            return
        if self.layer_paths:
            ctx.claim(SESSION_NS, sid)
            self._join_annotations(ctx, sid, split, built)

    def _emit_session(self, source: str, ctx, sid: str, split: str, messages, dropped: int) -> list[dict]:
        turns = []
        shop_types = Counter(m.shop_type for m in messages)
        skus = list(dict.fromkeys(m.sku for m in messages if m.sku))
        for i, m in enumerate(messages):
            refs, ids = [], []
            if m.image:
                refs = [m.image]
                image_id, reason = self._resolver.resolve(m.image)
                if image_id:
                    ids.append(image_id)
                    ctx.add_stat("turn_images_resolved")
                else:
                    ctx.add_stat("turn_images_missing")
                    ctx.emit("missing_images", {"dialog_id": sid, "split": split, "turn_index": i, "image_ref": m.image, "reason": reason})
            row = {
                "dialog_id": sid,
                "split": split,
                "turn_index": i,
                "speaker": "system" if m.waiter else "user",
                "text": "" if m.image else m.text,
                "text_templated": None,
                "image_refs": refs,
                "image_ids": ids,
                "item_ids": [m.sku] if m.sku and m.sku in self._products else [],
                "annotations": None,
            }
            turns.append(row)
            ctx.emit("turns", row)
        if len(shop_types) > 1:
            ctx.add_stat("sessions_mixed_shop_type")
        meta = {
            "shop_type": shop_types.most_common(1)[0][0],
            "sku": skus[-1] if skus else None,  # JD's readers keep the last non-empty SKU
            "skus": skus,
            "image_messages": sum(1 for m in messages if m.image),
            "text_chars": sum(len(m.text) for m in messages if not m.image),
            "dropped_messages": dropped,
            "annotated": sid in self._annotated,
            "offset": messages[0].offset,
        }
        ctx.emit(
            "dialogs",
            {
                "dialog_id": sid,
                "split": split,
                "source": source,
                "num_turns": len(turns),
                "domain": meta["shop_type"] or None,
                "meta": json.dumps(meta, sort_keys=True, ensure_ascii=False),
            },
        )
        ctx.add_stat("text_chars", meta["text_chars"])
        return turns

    def _join_annotations(self, ctx: ShardContext, sid: str, split: str, turns: list[dict]) -> None:
        n = len(turns)
        for layer in ("rewrites", "discourse", "summaries"):
            items = self._layers.get(layer, {}).get(sid)
            if not items:
                continue
            path = self.layer_paths[layer]
            for loc, rec, status in resolve_revisions(items, lambda r, layer=layer: ly.layer_key(layer, r)):
                with ctx.record(f"{layer}.turns", path, f"{loc} ({sid})", raw=rec, split=split) as r:
                    if status == "superseded":
                        r.filter_out()
                        continue
                    if status == "duplicate":
                        raise Reject(f"duplicate annotation: same key and revision {rec['version']} as an earlier line")
                    ctx.emit(
                        f"jddc_{'query_rewrites' if layer == 'rewrites' else layer}", _annotation_row(layer, rec, sid, split, turns, n)
                    )

    # -- kb -> jddc_kb_triples, products ----------------------------------------------------
    def _kb(self, unit: WorkUnit, ctx: ShardContext) -> None:
        data = ctx.read(unit)
        jsonl = unit.path.endswith(".jsonl")
        seen: set[tuple[str, str, str]] = set()
        by_sku: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        self._kb_triples(unit, ctx, data, jsonl, seen, by_sku)
        self._kb_products(unit, ctx, by_sku)

    def _kb_triples(self, unit, ctx, data, jsonl, seen, by_sku) -> None:
        for n, line in io.iter_lines(data):
            if not line.strip():
                continue
            with ctx.record("kb.triples", unit.path, f"line {n}", raw=line) as rec:
                sku, attr, value = ly.parse_kb_line(line, jsonl)
                if (sku, attr, value) in seen:
                    rec.filter_out()  # exact duplicate triple
                    continue
                seen.add((sku, attr, value))
                by_sku[sku][attr].append(value)
                ctx.emit(
                    "jddc_kb_triples",
                    {
                        "product_id": sku,
                        "split": SPLIT_SHARED,
                        "attribute": attr,
                        "value": value,
                        "source": f"{posixpath.basename(unit.path)}:{n}",
                    },
                )

    def _kb_products(self, unit, ctx, by_sku) -> None:
        for sku in sorted(by_sku):
            with ctx.record("kb.products", unit.path, sku, raw={"sku": sku}):
                attrs = {a: " | ".join(vs) for a, vs in sorted(by_sku[sku].items())}
                ctx.emit(
                    "products",
                    {
                        "product_id": sku,
                        "split": SPLIT_SHARED,
                        "name": next((attrs[k] for k in NAME_ATTRIBUTES if k in attrs), None),
                        "category": next((attrs[k] for k in CATEGORY_ATTRIBUTES if k in attrs), None),
                        "attributes": list(attrs.items()),
                        "description": "; ".join(f"{k}: {v}" for k, v in attrs.items()),
                        "image_refs": [],
                        "image_ids": [],
                        "source": posixpath.basename(unit.path),
                    },
                )

    # -- annotation files: line validation and session references ---------------------------
    def _layer_unit(self, unit: WorkUnit, ctx: ShardContext) -> None:
        data = ctx.read(unit)
        parse = ly.PARSERS[unit.kind]
        for loc, raw in ly.iter_jsonl(data):
            rec = None
            with ctx.record(f"{unit.kind}.parse", unit.path, loc, raw=raw):
                rec = parse(raw)
            if rec is not None:
                ctx.expect(SESSION_NS, rec["session_id"], f"{unit.kind}.session", unit.path, loc, raw)

    def _categories_unit(self, unit: WorkUnit, ctx: ShardContext) -> None:
        data = ctx.read(unit)
        items = []
        for loc, raw in ly.iter_jsonl(data):
            with ctx.record("categories.parse", unit.path, loc, raw=raw):
                items.append((loc, ly.parse_category(raw), raw))
        raws = {loc: raw for loc, _, raw in items}
        for loc, rec, status in resolve_revisions([(loc, rec) for loc, rec, _ in items], lambda r: ly.layer_key("categories", r)):
            with ctx.record("categories.revision", unit.path, loc, raw=raws[loc]) as r:
                if status == "superseded":
                    r.filter_out()
                    continue
                if status == "duplicate":
                    raise Reject(f"duplicate image category for {rec['image']!r}: same revision {rec['version']} as an earlier line")
                if self.images_dir:
                    # joined by the worker that reads the image file; no file -> dead letter
                    ctx.expect(IMAGE_NS, rec["image"], "categories.image", unit.path, loc, raws[loc])
                else:
                    ctx.emit("jddc_image_categories", _category_row(rec, None))

    # -- image files -> images (and their category) ----------------------------------------
    def _image(self, unit: WorkUnit, ctx: ShardContext) -> None:
        data = ctx.read(unit)
        name = posixpath.basename(unit.path)
        ok = False
        with ctx.record("images", unit.path, name, raw=None):
            row = image_row(data, name, self.rel(unit.path), embed=self.embed_image_bytes)
            image_id = row["image_id"]
            if self.mask is not None:  # masked row, or quarantine (+ manual-check candidate)
                self.mask.emit(ctx, row, category=(self._categories.get(name) or {}).get("category"))
            else:
                ctx.emit("images", row)
            if name in self._categories:
                ctx.emit("jddc_image_categories", _category_row(self._categories[name], image_id))
            ok = True
        if ok and self.categories_path:
            ctx.claim(IMAGE_NS, name)


def _size(files: list[tuple[str, int]], path: str) -> int:
    return next((s for p, s in files if p == path), 0)


def _category_row(rec: dict, image_id: str | None) -> dict:
    return {
        "image": rec["image"],
        "split": SPLIT_SHARED,
        "image_id": image_id,
        "category": rec["category"],
        "category_group": rec["category_group"],
        "annotator": rec["annotator"],
        "created_at": rec["created_at"],
        "version": rec["version"],
    }


def _check_index(what: str, ti: int, n: int) -> None:
    if ti >= n:
        raise Reject(f"{what} {ti} refers to a missing EDU: the session has {n} turns (0..{n - 1})")


def _annotation_row(layer: str, rec: dict, sid: str, split: str, turns: list[dict], n: int) -> dict:
    common = {"dialog_id": sid, "split": split, "annotator": rec["annotator"], "created_at": rec["created_at"], "version": rec["version"]}
    if layer == "rewrites":
        ti = rec["turn_index"]
        _check_index("turn_index", ti, n)
        if turns[ti]["speaker"] != "user":
            raise Reject(f"turn_index {ti} is a customer-service turn; query rewrites belong to user queries")
        rewritten = rec["rewritten"]
        # a multimodal query is a run of user messages; its images sit on the run's other turns
        query_turns = rec.get("query_turn_indices") or [ti]  # validated by layers.parse_rewrite
        for qt in query_turns:
            _check_index("query_turn_indices", qt, n)
            if turns[qt]["speaker"] != "user":
                raise Reject(f"query_turn_indices holds {qt}, a customer-service turn")
        return {
            **common,
            "turn_index": ti,
            "query_text": turns[ti]["text"],
            "query_image_refs": [r for qt in sorted(set(query_turns) | {ti}) for r in turns[qt]["image_refs"]],
            "rewritable": rec["rewritable"],
            "rewritten": rewritten,
            "rewritten_chars": len(rewritten) if rewritten is not None else None,
        }
    if layer == "discourse":
        _check_index("turn_index", rec["turn_index"], n)
        return {**common, **{k: rec[k] for k in ("turn_index", "parent_turn_index", "relation", "level1", "level2", "level3")}}
    bad = [t for t in rec["trivial_turn_indices"] if t >= n]
    if bad:
        raise Reject(f"trivial_turn_indices {bad} refer to missing EDUs: the session has {n} turns (0..{n - 1})")
    return {
        **common,
        "trivial_turn_indices": rec["trivial_turn_indices"],
        "summary": rec["summary"],
        "summary_chars": len(rec["summary"]),
        "num_turns": n,
    }
