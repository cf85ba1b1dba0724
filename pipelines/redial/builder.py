"""ReDial build on the shared core.

Work units:
- `dialogs`: byte ranges of the native jsonl files (`train_data.jsonl`, `test_data.jsonl`, any
  `train*/valid*/dev*/test*.jsonl` below `--raw`), cut on line ends so one big file spreads over
  shards; `WorkUnit.key` holds the number of lines before the range, so every dead letter names
  its line;
- `catalogue`: movies_with_mentions.csv together with the optional metadata file (both small),
  giving the `products` rows.

Stages (records in = out + dead + filtered for each): `dialogs` (one record per line),
`mentions` (one per `@id` token: dead when neither movieMentions nor the catalogue CSV names the
movie; the dialog still builds and keeps the literal `@id`), `labels` (one per questionnaire
entry, and one per questionnaire that is neither an object nor `[]`), `movies` (CSV rows),
`metadata` (metadata records) and `catalogue` (a cross-shard check that every movie a dialog
mentions is a product; a miss is a dead letter in `dead_letters-references`).

Splits: `test*` files -> test; `valid*`/`dev*` files -> valid; `train*` files -> train, minus a
seeded carve-out of `--valid-fraction` of the conversations (stable hash of conversationId), which
goes to valid.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from pipelines.core import io
from pipelines.core.builder import Builder, UsageError, WorkUnit
from pipelines.core.context import Reject, ShardContext
from pipelines.core.splits import normalise_split_name, stable_fraction
from pipelines.privacy.hooks import text_config, with_text_privacy
from pipelines.redial import catalogue as cat
from pipelines.redial.lines import line_ranges
from pipelines.redial.reader import Dialog, mention_ids, normalise_name, parse_dialog, validate_labels
from pipelines.redial.transforms import DEFAULT_CONTEXT_TURNS, dialog_row, label_row, rec_sample_rows, turn_row, turn_texts

MOVIES_CSV = "movies_with_mentions.csv"
METADATA_NAMES = ("movies_metadata.jsonl", "movies_metadata.csv")
SPLIT_PREFIXES = ("train", "valid", "dev", "val", "test")
DEFAULT_UNIT_BYTES = 1024 * 1024
LABELS_TABLE = "redial_movie_labels"


def dialog_file_split(path: str) -> str | None:
    """Split named by a dialog file's name (train_data.jsonl -> train), or None if it is not one."""
    name = posixpath.basename(path).lower()
    if not name.endswith(".jsonl"):
        return None
    for prefix in SPLIT_PREFIXES:
        if name.startswith(prefix):
            return normalise_split_name(prefix)
    return None


def find_named(files: list[tuple[str, int]], name: str) -> str | None:
    hits = [p for p, _ in files if posixpath.basename(p) == name]
    return sorted(hits, key=len)[0] if hits else None


@dataclass
class RedialBuilder(Builder):
    raw: str
    movies_path: str | None = None
    metadata_path: str | None = None
    valid_fraction: float = 0.1
    valid_seed: int = 0
    context_turns: int = DEFAULT_CONTEXT_TURNS
    unit_bytes: int = DEFAULT_UNIT_BYTES
    deidentify_text: object = None  # a pipelines.privacy.text.TextDeidentifier (--deidentify-text), else None
    _names: dict[str, str] | None = field(default=None, repr=False, compare=False)
    _published: set[str] | None = field(default=None, repr=False, compare=False)

    dataset = "redial"
    splits = ("train", "valid", "test")
    dialog_tables = ("dialogs", "turns", "rec_samples", LABELS_TABLE)
    shared_tables = ("products",)
    primary_kinds = ("dialogs",)

    def __post_init__(self):
        if not 0 <= self.valid_fraction < 1:
            raise UsageError(f"--valid-fraction must be in [0, 1), got {self.valid_fraction}")

    # -- launcher side --------------------------------------------------------------------
    def plan(self) -> list[WorkUnit]:
        if not io.exists(self.raw):
            raise UsageError(f"--raw {self.raw}: no such folder")
        files = io.list_files(self.raw)
        if self.movies_path is None:
            self.movies_path = find_named(files, MOVIES_CSV)
        if not self.movies_path or not io.exists(self.movies_path):
            raise UsageError(f"no {MOVIES_CSV} below --raw {self.raw} (or at --movies): the movie catalogue is required")
        if self.metadata_path is None:
            self.metadata_path = next((p for p in (find_named(files, n) for n in METADATA_NAMES) if p), None)
        elif not io.exists(self.metadata_path):
            raise UsageError(f"--metadata {self.metadata_path}: no such file")
        units: list[WorkUnit] = []
        for path, _size in files:
            split = dialog_file_split(path)
            if split is None:
                continue
            for start, end, before in line_ranges(path, self.unit_bytes):
                units.append(WorkUnit("dialogs", path, end - start, start=start, end=end, split=split, key=str(before)))
        if not units:
            raise UsageError(
                f"--raw {self.raw}: no dialog files (expected train_data.jsonl / test_data.jsonl or train*/valid*/test*.jsonl)"
            )
        size = sum(s for p, s in files if p in (self.movies_path, self.metadata_path))
        units.append(WorkUnit("catalogue", self.movies_path, max(size, 1), key=self.metadata_path or ""))
        return units

    def config(self) -> dict:
        return {
            **text_config(self.deidentify_text),
            "valid_fraction": self.valid_fraction,
            "valid_seed": self.valid_seed,
            "context_turns": self.context_turns,
            "metadata": bool(self.metadata_path),
        }

    def side_files(self) -> dict[str, str]:
        return {k: v for k, v in {"movies": self.movies_path, "metadata": self.metadata_path}.items() if v}

    def table_stats(self, table: str, rows: list[dict]) -> dict[str, float]:
        if table == "rec_samples":
            return {
                "samples": len(rows),
                "positives": sum(r["num_positives"] for r in rows),
                "negatives": sum(r["num_negatives"] for r in rows),
            }
        if table == "turns":
            return {"turns": len(rows), "turns_with_items": sum(1 for r in rows if r["item_ids"])}
        return {}

    def split_of(self, file_split: str, dialog_id: str) -> str:
        if (
            file_split == "train"
            and self.valid_fraction > 0
            and stable_fraction(dialog_id, f"redial-valid:{self.valid_seed}") < self.valid_fraction
        ):
            return "valid"
        return file_split

    # -- worker side ----------------------------------------------------------------------
    def setup(self) -> None:
        """The catalogue's names, to resolve an `@id` that a dialog's movieMentions lacks."""
        names: dict[str, str] = {}
        if self.movies_path and io.exists(self.movies_path):
            header, rows = cat.csv_rows(io.read_bytes(self.movies_path))
            if all(c in header for c in cat.CSV_COLUMNS):
                i, j = header.index("movieId"), header.index("movieName")
                for _, cells in rows:
                    if len(cells) == len(header) and cells[i].strip() and cells[j].strip():
                        names.setdefault(cells[i].strip(), normalise_name(cells[j]))
        self._names = names
        self._published = self._catalogue_ids()

    def _catalogue_ids(self) -> set[str]:
        """The movie ids the catalogue unit publishes as products: the same parse, run into a
        scratch context, so a dialog keeps exactly the ids that will resolve in this build."""
        if not self.movies_path or not io.exists(self.movies_path):
            return set()
        scratch = ShardContext(self.dataset)
        self._catalogue(WorkUnit("catalogue", self.movies_path, 1, key=self.metadata_path or ""), scratch)
        return {key for ns, key in scratch.claimed if ns == "movie"}

    def references(self) -> list[tuple[str, str, str, str]]:
        return [(LABELS_TABLE, "movie_id", "products", "product_id"), (LABELS_TABLE, "dialog_id", "dialogs", "dialog_id")]

    def process(self, unit: WorkUnit, ctx: ShardContext) -> None:
        ctx = with_text_privacy(ctx, self.deidentify_text)  # free-text columns de-identified as emitted
        if self._names is None:
            self.setup()
        {"dialogs": self._dialogs, "catalogue": self._catalogue}[unit.kind](unit, ctx)

    def _dialogs(self, unit: WorkUnit, ctx: ShardContext) -> None:
        data = ctx.read(unit)
        source = self.rel(unit.path)
        for line_no, line in io.iter_lines(data, int(unit.key or 0)):
            if not line.strip():
                ctx.add_stat("blank_lines")
                continue
            with ctx.record("dialogs", unit.path, f"line {line_no}", raw=line, split=unit.split) as rec:
                dialog = parse_dialog(line)
                split = self.split_of(unit.split, dialog.conversation_id)
                rec.split = split
                self._dialog(dialog, split, unit.path, source, line_no, ctx)

    def _names_for(self, dialog: Dialog) -> dict[str, str]:
        """Movie id -> display name: the dialog's movieMentions first, else the catalogue CSV."""
        wanted = set(dialog.movie_mentions) | {i for t in dialog.turns for m in t.messages for i in mention_ids(m.text)}
        names = {}
        for mid in wanted:
            given = dialog.movie_mentions.get(mid)
            name = normalise_name(given) if isinstance(given, str) and given.strip() else self._names.get(mid)
            if name:
                names[mid] = name
        return names

    def _dialog(self, dialog: Dialog, split: str, path: str, source: str, line_no: int, ctx: ShardContext) -> None:
        did = dialog.conversation_id
        names = self._names_for(dialog)
        # one record per @id token: resolved, or a dead letter that leaves the literal @id in the text
        for turn in dialog.turns:
            for m in turn.messages:
                for mid in mention_ids(m.text):
                    with ctx.record("mentions", path, f"line {line_no}: message {m.index} @{mid}", raw=m.text, split=split):
                        if mid not in names:
                            raise Reject(f"unknown movie @{mid}: in neither the dialog's movieMentions nor {MOVIES_CSV}")
                        if mid not in dialog.movie_mentions:
                            ctx.add_stat("mentions_named_by_catalogue")
        turn_rows = []
        by_role: dict[str, set[str]] = {"seeker": set(), "recommender": set()}
        uncatalogued: set[str] = set()
        for turn in dialog.turns:
            text, templated, ids = turn_texts(turn, names)
            uncatalogued.update(i for i in ids if i not in self._published)
            ids = [i for i in ids if i in self._published]  # only ids that resolve to a product
            by_role[turn.role].update(ids)
            turn_rows.append(turn_row(did, split, turn, text, templated, ids))
        for mid in sorted(uncatalogued):
            ctx.reject(
                "catalogue",
                path,
                f"line {line_no}: @{mid}",
                f"movie reference {mid!r} is not in the build's catalogue ({MOVIES_CSV}): left out of item_ids and samples",
                raw=names.get(mid),
                split=split,
            )
        self._labels(dialog, split, path, line_no, names, by_role, ctx)
        for row in turn_rows:
            ctx.emit("turns", row)
        for row in rec_sample_rows(did, split, turn_rows, self.context_turns):
            ctx.emit("rec_samples", row)
        ctx.emit("dialogs", dialog_row(dialog, split, source, line_no))
        ctx.add_stat("messages", dialog.num_messages)
        ctx.add_stat(f"dialogs_{split}")
        for mid in sorted(by_role["seeker"] | by_role["recommender"]):
            ctx.expect("movie", mid, "catalogue", path, f"line {line_no}: @{mid}", raw=names.get(mid))

    def _labels(self, dialog: Dialog, split: str, path: str, line_no: int, names: dict, by_role: dict, ctx: ShardContext) -> None:
        known = set(dialog.movie_mentions) | by_role["seeker"] | by_role["recommender"]
        for form, value in dialog.forms.items():
            key = "initiatorQuestions" if form == "seeker" else "respondentQuestions"
            if value is None or value == [] or value == {}:
                ctx.add_stat(f"questionnaires_empty_{form}")
                continue
            if not isinstance(value, dict):
                with ctx.record("labels", path, f"line {line_no}: {key}", raw=value, split=split):
                    raise Reject(f"wrong type: '{key}' must be an object or [], got {type(value).__name__}")
                continue
            for mid, labels in value.items():
                with ctx.record("labels", path, f"line {line_no}: {key}[{mid}]", raw=labels, split=split):
                    if mid not in known:
                        raise Reject(f"label for movie {mid} that the dialog neither lists in movieMentions nor mentions")
                    if mid not in self._published:
                        raise Reject(f"label for movie {mid}, which is not in the build's catalogue ({MOVIES_CSV})")
                    row = label_row(
                        dialog.conversation_id,
                        split,
                        mid,
                        form,
                        names.get(mid),
                        validate_labels(mid, labels),
                        by_role["seeker"],
                        by_role["recommender"],
                    )
                    ctx.emit(LABELS_TABLE, row)

    def _catalogue(self, unit: WorkUnit, ctx: ShardContext) -> None:
        data = ctx.read(unit)
        header, rows = cat.csv_rows(data)
        missing = [c for c in cat.CSV_COLUMNS if c not in header]
        if missing:
            ctx.reject("movies", unit.path, "line 1", f"{MOVIES_CSV} header lacks {missing} (got {header})", raw=",".join(header))
            return
        csv_ids = {cells[header.index("movieId")].strip() for _, cells in rows if len(cells) == len(header)}
        meta = self._metadata(unit.key, csv_ids, ctx) if unit.key else {}
        seen: set[str] = set()
        for line, cells in rows:
            with ctx.record("movies", unit.path, f"line {line}", raw=",".join(cells)):
                movie = cat.movie_from_csv(header, cells)
                mid = movie["movie_id"]
                if mid in seen:
                    raise Reject(f"duplicate movieId {mid}")
                seen.add(mid)
                m = meta.get(mid)
                ctx.emit(
                    "products",
                    cat.product_row(mid, movie, m, posixpath.basename(unit.path) + ("+" + posixpath.basename(unit.key) if m else "")),
                )
                ctx.add_stat("movies_with_metadata", 1 if m else 0)
                ctx.claim("movie", mid)

    def _metadata(self, path: str, csv_ids: set[str], ctx: ShardContext) -> dict[str, dict]:
        """Parse the metadata file; movies the CSV lacks become products of their own here."""
        data = ctx.read(WorkUnit("metadata", path))
        out: dict[str, dict] = {}
        try:
            records = list(cat.metadata_records(path, data))
        except Reject as exc:
            ctx.reject("metadata", path, "line 1", str(exc))
            return out
        for line, raw, parsed in records:
            with ctx.record("metadata", path, f"line {line}", raw=raw):
                if isinstance(parsed, Exception):
                    raise parsed
                m = cat.normalise_metadata(parsed)
                mid = m["movie_id"]
                if mid in out:
                    raise Reject(f"duplicate movieId {mid} in the metadata")
                out[mid] = m
                if mid not in csv_ids:
                    ctx.emit("products", cat.product_row(mid, None, m, posixpath.basename(path)))
                    ctx.add_stat("movies_metadata_only")
                    ctx.claim("movie", mid)
        return out
