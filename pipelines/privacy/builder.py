"""`mmdial mask` and `mmdial mask-manual` as builds on the shared core.

`MaskBuilder` work units: one per image file (IN is a folder of images) or one per row group of
an `images` Parquet table (IN is a build output, a folder of Parquet files, or one file). Each
image is one record of stage `mask`; the masker publishes it to `images`, or quarantines it, and
lists it in `privacy_candidates` when nothing was masked.

`ManualBuilder` reads a `mmdial mask` output plus the manual-check JSONL and writes the final
images; every decision must name an image of the build (checked by the core's reference join).
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field

from pipelines.core import io
from pipelines.core.builder import Builder, UsageError, WorkUnit
from pipelines.core.context import Reject, ShardContext
from pipelines.core.images import IMAGE_EXTENSIONS, image_row
from pipelines.privacy.stage import PRIVACY_TABLES, PrivacyMasker
from schemas.core import SPLIT_SHARED

#: planning weight of one image: OCR costs per image, not per compressed byte, so a shard of
#: `--shard-mib` holds at most shard_mib * 4 images (a 40 KiB screenshot weighs as much as a 200 KiB one)
IMAGE_COST_BYTES = 256 * 1024


def parquet_units(path: str, kind: str = "parquet") -> list[WorkUnit]:
    """One unit per row group, with the row group's byte range (for balanced shards and checksums)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from apache_beam.io.filesystems import FileSystems

    from pipelines.core.builder import UsageError

    try:
        with FileSystems.open(path, compression_type="uncompressed") as fh:
            meta = pq.ParquetFile(fh).metadata
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a readable Parquet file ({exc})") from None
    units = []
    for i in range(meta.num_row_groups):
        rg = meta.row_group(i)
        starts, ends = [], []
        for c in range(rg.num_columns):
            col = rg.column(c)
            s = col.dictionary_page_offset if col.has_dictionary_page and col.dictionary_page_offset else col.data_page_offset
            starts.append(s)
            ends.append(s + col.total_compressed_size)
        start, end = (min(starts), max(ends)) if starts else (0, 0)
        cost = max(end - start, rg.num_rows * IMAGE_COST_BYTES, 1)
        units.append(WorkUnit(kind, path, cost, start, end, key=str(i)))
    if not units:  # an empty table still gets a unit, so its (zero) rows are accounted for
        units.append(WorkUnit(kind, path, 1, 0, -1, key="-1"))
    return units


def read_row_group(ctx: ShardContext, unit: WorkUnit):
    """Rows of one row group; the group's bytes are checksummed into the manifest's sources."""
    import pyarrow.parquet as pq
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.open(unit.path, compression_type="uncompressed") as fh:
        pf = pq.ParquetFile(fh)
        table = pf.read_row_group(int(unit.key)) if int(unit.key) >= 0 else pf.schema_arrow.empty_table()
    raw = io.read_range(unit.path, unit.start, unit.end) if unit.end > unit.start else b""
    ctx.sources.append({"path": f"{unit.path}#rg{unit.key}", "bytes": len(raw), "sha256": io.sha256_hex(raw)})
    return table


def find_parquet(root: str, table: str) -> list[tuple[str, int]]:
    """The table's Parquet files under `root`: `<root>/<table>/*.parquet` of a build, else any *.parquet."""
    if root.endswith(".parquet"):
        return [(root, 0)] if io.exists(root) else []
    sub = io.list_files(io.join(root, table), ("*.parquet",)) if io.exists(io.join(root, table)) else []
    return sub or [(p, s) for p, s in io.list_files(root) if p.endswith(".parquet") and "/_" not in p[len(root) :]]


def load_categories(path: str | None) -> dict[str, str]:
    """image_categories.jsonl (`{"image": "<name or image_id>", "category": str}`) -> key -> category."""
    if not path:
        return {}
    out = {}
    for _, line in io.iter_lines(io.read_bytes(path)):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            out[str(rec["image"])] = str(rec["category"])
        except (ValueError, KeyError, TypeError):
            continue
    return out


def category_of(categories: dict[str, str], row: dict) -> str | None:
    if not categories:
        return None
    for key in (row.get("image_id"), row.get("source_key"), posixpath.basename(row.get("source_key") or "")):
        if key and key in categories:
            return categories[key]
    return None


@dataclass
class MaskBuilder(Builder):
    input: str
    masker: PrivacyMasker = field(default_factory=PrivacyMasker)
    dataset_name: str = "images"
    categories_path: str | None = None
    _mode: str = ""
    _categories: dict | None = field(default=None, repr=False)

    splits = ()
    dialog_tables = ()
    shared_tables = ("images",) + PRIVACY_TABLES

    def __post_init__(self):
        self.dataset = self.dataset_name

    def plan(self) -> list[WorkUnit]:
        if not io.exists(self.input):
            raise UsageError(f"--in {self.input}: no such file or folder")
        if self.categories_path and not io.exists(self.categories_path):
            raise UsageError(f"--categories {self.categories_path}: no such file")
        parquet = find_parquet(self.input, "images")
        if parquet:
            self._mode = "parquet"
            return [u for p, _ in parquet for u in parquet_units(p)]
        root = self.input.rstrip("/")
        files = [(p, s) for p, s in io.list_files(root) if p.lower().endswith(IMAGE_EXTENSIONS) and "/." not in p[len(root) :]]
        if not files:
            raise UsageError(f"--in {self.input}: no image files ({', '.join(IMAGE_EXTENSIONS)}) and no images Parquet table")
        self._mode = "files"
        return [WorkUnit("image", p, max(s, IMAGE_COST_BYTES), key=posixpath.relpath(p, root)) for p, s in files]

    def config(self) -> dict:
        return {"input_mode": self._mode, "privacy": self.masker.config(), "categories": bool(self.categories_path)}

    def side_files(self) -> dict[str, str]:
        return {"categories": self.categories_path} if self.categories_path else {}

    def setup(self) -> None:
        self.masker.setup()
        self._categories = load_categories(self.categories_path)

    def process(self, unit: WorkUnit, ctx: ShardContext) -> None:
        if unit.kind == "image":
            self._image_file(unit, ctx)
        else:
            self._row_group(unit, ctx)

    def _image_file(self, unit: WorkUnit, ctx: ShardContext) -> None:
        data = ctx.read(unit)
        with ctx.record("mask", unit.path, unit.key, raw=None):
            row = image_row(
                data, unit.key, self.rel(unit.path), strict=False
            )  # undecodable: the masker quarantines it; uri relative to --in
            self.masker.emit(ctx, row, category_of(self._categories, row))

    def _row_group(self, unit: WorkUnit, ctx: ShardContext) -> None:
        table = read_row_group(ctx, unit)
        missing = {"image_id", "source_key"} - set(table.column_names)
        if missing:
            raise Reject(f"not an images table: columns {sorted(missing)} missing")
        names = set(table.column_names)
        for j, row in enumerate(table.to_pylist()):
            locator = f"rg{unit.key}:row{j}:{row.get('source_key')}"
            with ctx.record("mask", unit.path, locator, raw={k: v for k, v in row.items() if k != "data"}):
                if not row.get("image_id") or not row.get("source_key"):
                    raise Reject("image_id and source_key are required")
                row = {k: v for k, v in row.items() if k in _IMAGE_COLUMNS}
                row.setdefault("split", SPLIT_SHARED)
                if "privacy_status" not in names:
                    row["privacy_status"] = "unchecked"
                self.masker.emit(ctx, row, category_of(self._categories, row))


_IMAGE_COLUMNS = (
    "dataset",
    "image_id",
    "split",
    "source_key",
    "uri",
    "data",
    "width",
    "height",
    "format",
    "source",
    "privacy_status",
    "privacy_audit",
)


def original_path(uri: str | None, images_dir: str | None) -> str | None:
    """Where the original of a published `uri` is: as it is when absolute or a URL, else under
    `images_dir` (the folder the build's image paths are relative to)."""
    if not uri:
        return None
    if uri.startswith("/") or "://" in uri:
        return uri
    if not images_dir:
        raise ValueError(
            f"uri {uri!r} is relative to the build's image folder: pass --images DIR (the folder the build read its images from)"
        )
    return io.join(images_dir, uri)


@dataclass
class ManualBuilder(Builder):
    """Final images = a `mmdial mask` output + the manual decisions."""

    input: str
    manual_path: str
    dataset_name: str = "images"
    fill: tuple[int, int, int] = (0, 0, 0)
    jpeg_quality: int = 92
    #: the folder a build's relative `uri` values are relative to (its image folder): builds publish
    #: no absolute paths, so releasing a quarantined original needs to know where the originals are
    images_dir: str | None = None
    acceptance_path: str | None = None  # the acceptance check's report (`mmdial annotate qc report --json`)
    _decisions: dict | None = field(default=None, repr=False)
    _acceptance: dict | None = field(default=None, repr=False)

    splits = ()
    dialog_tables = ()
    shared_tables = ("images",) + PRIVACY_TABLES

    def __post_init__(self):
        self.dataset = self.dataset_name

    def plan(self) -> list[WorkUnit]:
        if not io.exists(self.input):
            raise UsageError(f"--in {self.input}: no such folder")
        if not io.exists(self.manual_path):
            raise UsageError(f"--manual {self.manual_path}: no such file")
        images = find_parquet(self.input, "images")
        if not images:
            raise UsageError(f"--in {self.input}: no images table (expected a `mmdial mask` output)")
        units = [u for p, _ in images for u in parquet_units(p)]
        if self.acceptance_path:
            self._acceptance = _acceptance_for(self.acceptance_path, [p for p, _ in images])
        quarantine = (
            io.list_files(io.join(self.input, "privacy_quarantine"), ("*.parquet",))
            if io.exists(io.join(self.input, "privacy_quarantine"))
            else []
        )
        units += [u for p, _ in quarantine for u in parquet_units(p, "quarantine")]
        size = max(1, len(io.read_bytes(self.manual_path)))
        units.append(WorkUnit("manual", self.manual_path, size))
        return units

    def config(self) -> dict:
        # whether originals can be released changes the output; which folder does not (a released
        # original must hash to its image_id)
        return {"fill": list(self.fill), "jpeg_quality": self.jpeg_quality, "originals": bool(self.images_dir)}

    def side_files(self) -> dict[str, str]:
        return {"manual": self.manual_path, **({"acceptance": self.acceptance_path} if self.acceptance_path else {})}

    def manifest_sections(self) -> dict:
        return {"privacy": {"acceptance": self._acceptance}} if self._acceptance else {}

    def setup(self) -> None:
        from pipelines.privacy import manual

        self._decisions = manual.load(self.manual_path)

    def process(self, unit: WorkUnit, ctx: ShardContext) -> None:
        {"parquet": self._images, "quarantine": self._quarantined, "manual": self._manual}[unit.kind](unit, ctx)

    def _manual(self, unit: WorkUnit, ctx: ShardContext) -> None:
        from pipelines.privacy import manual

        data = ctx.read(unit)
        for lineno, line in io.iter_lines(data):
            if not line.strip():
                continue
            with ctx.record("manual.parse", unit.path, f"line {lineno}", raw=line):
                d = manual.parse_line(line)
                ctx.expect("privacy_image", d.image_id, "manual.join", unit.path, f"line {lineno}", raw=line)

    def _images(self, unit: WorkUnit, ctx: ShardContext) -> None:
        from pipelines.privacy import manual

        table = read_row_group(ctx, unit)
        for j, row in enumerate(table.to_pylist()):
            with ctx.record(
                "manual.apply", unit.path, f"rg{unit.key}:row{j}:{row.get('source_key')}", raw={k: v for k, v in row.items() if k != "data"}
            ):
                row = {k: v for k, v in row.items() if k in _IMAGE_COLUMNS}
                ctx.claim("privacy_image", row["image_id"])
                d = self._decisions.get(row["image_id"])
                if d is not None:
                    row = manual.apply(row, d, self.fill, self.jpeg_quality)
                    ctx.add_stat(f"manual.{row['privacy_status']}")
                ctx.emit("images", row)
                if row["privacy_status"] == "unchecked":
                    from pipelines.privacy.quarantine import candidate_row

                    ctx.emit("privacy_candidates", candidate_row(row, row["image_id"], "no_auto_mask", "unchecked", _lines(row)))

    def _quarantined(self, unit: WorkUnit, ctx: ShardContext) -> None:
        from pipelines.privacy import manual
        from pipelines.privacy.quarantine import candidate_row
        from pipelines.privacy.stage import sha256_hex

        table = read_row_group(ctx, unit)
        for j, q in enumerate(table.to_pylist()):
            with ctx.record("manual.release", unit.path, f"rg{unit.key}:row{j}:{q.get('source_key')}", raw=q):
                ctx.claim("privacy_image", q["image_id"])
                d = self._decisions.get(q["image_id"])
                if d is None:
                    ctx.emit("privacy_quarantine", q)
                    ctx.emit("privacy_candidates", candidate_row(q, q["image_id"], "quarantined", "quarantined", None))
                    continue
                try:
                    original = original_path(q.get("uri"), self.images_dir)
                    data = io.read_bytes(original) if original else None
                    if data is None or sha256_hex(data) != q["image_id"]:
                        raise ValueError("the original at uri is missing or no longer matches image_id")
                    from pipelines.privacy.codec import decode

                    dec = decode(data, 40_000_000)
                    h, w = dec.bgr.shape[:2]
                    row = {
                        **image_row(data, q["source_key"], q["uri"], size=(w, h, dec.format)),
                        "dataset": q["dataset"],
                        "privacy_audit": q.get("audit"),
                    }
                    row = manual.apply(row, d, self.fill, self.jpeg_quality)
                    ctx.emit("images", row)
                    ctx.add_stat("manual.released")
                except Exception as exc:  # noqa: BLE001 - stays quarantined, with why
                    ctx.emit(
                        "privacy_quarantine", {**q, "reason": f"{q['reason']}; manual release failed: {type(exc).__name__}: {exc}"[:1000]}
                    )
                    ctx.emit("privacy_candidates", candidate_row(q, q["image_id"], "quarantined", "quarantined", None))


def _acceptance_for(path: str, image_files: list[str]) -> dict:
    """The acceptance report's manifest block, checked: finished, and about this build's auto-masked images."""
    import pyarrow.parquet as pq

    from pipelines.privacy import acceptance

    if not io.exists(path):
        raise UsageError(f"--acceptance {path}: no such file")
    try:
        doc = acceptance.load(path)
    except ValueError as exc:
        raise UsageError(f"--acceptance {exc}") from None
    ids: set[str] = set()
    for p in image_files:
        from apache_beam.io.filesystems import FileSystems

        with FileSystems.open(p, compression_type="uncompressed") as fh:
            cols = pq.read_table(fh, columns=["image_id", "privacy_status"]).to_pydict()
        ids.update(i for i, st in zip(cols["image_id"], cols["privacy_status"], strict=True) if st == "masked")
    if acceptance.ids_digest(ids) != doc.get("masked_ids_sha256"):
        raise UsageError(
            f"--acceptance {path}: it checked {doc.get('images')} auto-masked image(s), not the {len(ids)} of --in (another build?)"
        )
    return acceptance.manifest_block(doc)


def _lines(row: dict) -> int | None:
    try:
        return json.loads(row.get("privacy_audit") or "{}").get("text_lines")
    except ValueError:
        return None


def read_images(out: str):
    """The `images` table of a build (helper for tests and the benchmark)."""
    from pipelines.core.parquet import read_table

    return read_table(out, "images")
