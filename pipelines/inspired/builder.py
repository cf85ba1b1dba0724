"""INSPIRED build on the shared core (Hayati et al., EMNLP 2020; MESE's second data set).

Work units:
- `dialogs`: one per native TSV file (`train.tsv`, `dev.tsv`, `test.tsv`, any `train*/dev*/
  valid*/test*.tsv` below `--raw`); the whole release is about 36k rows, so a file is one unit;
- `catalogue`: the movies, from the titles the dialogues name (`movie_dict` keys and the `movies`
  column of every dialog file) joined with `movie_database.tsv` when it is there.

Stages (records in = out + dead + filtered for each): `utterances` (one per TSV row), `dialogs`
(one per dialog_id: a dialogue with duplicate utt_ids or two recommended movies is dead, its rows
with it), `movies` (one per catalogue movie), `metadata` (one per movie_database.tsv row).

Splits: `train*` -> train, `dev*`/`valid*` -> valid, `test*` -> test (INSPIRED's own split).
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass

from pipelines.core import io
from pipelines.core.builder import Builder, UsageError, WorkUnit
from pipelines.core.context import Reject, ShardContext
from pipelines.core.dialog import mention_rec_samples
from pipelines.core.splits import normalise_split_name
from pipelines.inspired import catalogue as cat
from pipelines.inspired.reader import Dialogue, Utterance, check_dialogue, group, missing_columns, parse_row, read_rows

DATABASE = "movie_database.tsv"
SPLIT_PREFIXES = ("train", "valid", "dev", "val", "test")
DEFAULT_CONTEXT_TURNS = 10


def dialog_file_split(path: str) -> str | None:
    name = posixpath.basename(path).lower()
    if not name.endswith(".tsv") or name == DATABASE:
        return None
    return next((normalise_split_name(p) for p in SPLIT_PREFIXES if name.startswith(p)), None)


@dataclass
class InspiredBuilder(Builder):
    raw: str
    database_path: str | None = None
    context_turns: int = DEFAULT_CONTEXT_TURNS
    dialog_files: tuple[str, ...] = ()

    dataset = "inspired"
    splits = ("train", "valid", "test")
    dialog_tables = ("dialogs", "turns", "rec_samples")
    shared_tables = ("products",)
    primary_kinds = ("dialogs",)

    # -- launcher side --------------------------------------------------------------------
    def plan(self) -> list[WorkUnit]:
        if not io.exists(self.raw):
            raise UsageError(f"--raw {self.raw}: no such folder")
        files = io.list_files(self.raw)
        if self.database_path is None:
            self.database_path = next((p for p, _ in sorted(files, key=lambda f: len(f[0])) if posixpath.basename(p) == DATABASE), None)
        elif not io.exists(self.database_path):
            raise UsageError(f"--database {self.database_path}: no such file")
        units = [WorkUnit("dialogs", p, max(s, 1), split=dialog_file_split(p)) for p, s in files if dialog_file_split(p)]
        if not units:
            raise UsageError(f"--raw {self.raw}: no dialog files (expected train.tsv / dev.tsv / test.tsv)")
        self.dialog_files = tuple(sorted(u.path for u in units))
        size = sum(u.size for u in units) + sum(s for p, s in files if p == self.database_path)
        units.append(WorkUnit("catalogue", self.database_path or self.dialog_files[0], size, key=self.database_path or ""))
        return units

    def config(self) -> dict:
        return {"context_turns": self.context_turns, "database": bool(self.database_path)}

    def side_files(self) -> dict[str, str]:
        return {"movie_database": self.database_path} if self.database_path else {}

    def references(self) -> list[tuple[str, str, str, str]]:
        return [("turns", "item_ids", "products", "product_id"), ("rec_samples", "positive_ids", "products", "product_id")]

    def table_stats(self, table: str, rows: list[dict]) -> dict[str, float]:
        if table == "turns":
            return {"turns_with_items": sum(1 for r in rows if r["item_ids"])}
        return {}

    # -- worker side ----------------------------------------------------------------------
    def process(self, unit: WorkUnit, ctx: ShardContext) -> None:
        {"dialogs": self._dialogs, "catalogue": self._catalogue}[unit.kind](unit, ctx)

    def _source(self, path: str) -> str:
        return self.rel(path)  # relative to the declared input folders (--raw, the database's folder)

    def _dialogs(self, unit: WorkUnit, ctx: ShardContext) -> None:
        header, rows = read_rows(ctx.read(unit))
        missing = missing_columns(header)
        if missing:
            ctx.reject("utterances", unit.path, "line 1", f"header lacks {missing} (got {header})", raw="\t".join(header), split=unit.split)
            return
        utts: list[Utterance] = []
        for line, cells in rows:
            with ctx.record("utterances", unit.path, f"line {line}", raw="\t".join(cells), split=unit.split):
                utts.append(parse_row(header, line, cells))
        for d in group(utts):
            lines = f"lines {d.utterances[0].line}-{d.utterances[-1].line}"
            with ctx.record("dialogs", unit.path, f"{d.dialog_id} ({lines})", raw=d.dialog_id, split=unit.split):
                check_dialogue(d)
                self._dialogue(d, unit, ctx)

    def _dialogue(self, d: Dialogue, unit: WorkUnit, ctx: ShardContext) -> None:
        split, did = unit.split, d.dialog_id
        turns = [turn_row(did, split, i, u) for i, u in enumerate(d.utterances)]
        for row in turns:
            ctx.emit("turns", row)
        for row in mention_rec_samples(did, split, turns, self.context_turns):
            ctx.emit("rec_samples", row)
        ctx.emit("dialogs", dialog_row(d, split, self._source(unit.path)))
        ctx.add_stat(f"dialogs_{split}")
        ctx.add_stat("source_turns", max(u.turn_id for u in d.utterances))
        for mid in sorted({m for t in turns for m in t["item_ids"]}):
            ctx.expect("movie", mid, "catalogue", unit.path, f"{did}: {mid}", raw=mid)

    def _catalogue(self, unit: WorkUnit, ctx: ShardContext) -> None:
        titles: dict[str, int] = {}
        for path in self.dialog_files:
            for title, n in cat.titles_in(io.read_bytes(path)).items():
                titles[title] = titles.get(title, 0) + n
        meta = cat.read_database(unit.key, ctx) if unit.key else {}
        for title in sorted(set(titles) | set(meta)):
            with ctx.record("movies", unit.key or "dialog files", title, raw=title):
                if not title.strip():
                    raise Reject("empty movie title")
                ctx.emit("products", cat.product_row(title, titles.get(title, 0), meta.get(title)))
                ctx.add_stat("movies_with_metadata", 1 if title in meta else 0)
                ctx.claim("movie", title)


def turn_row(dialog_id: str, split: str, index: int, u: Utterance) -> dict:
    annotations = {
        "utt_id": u.utt_id,
        "turn_id": u.turn_id,
        "role": u.role,
        "strategy": u.labels["expert_label"],
        "second_strategy": u.labels["second_label"],
        "genres": u.lists["genres"],
        "people_names": u.lists["people_names"],
    }
    if u.raw_text != u.text:
        annotations["raw_text"] = u.raw_text
    return {
        "dialog_id": dialog_id,
        "split": split,
        "turn_index": index,
        "speaker": u.speaker,
        "text": u.text,
        "text_templated": u.placeholder,
        "image_refs": [],
        "image_ids": [],
        "item_ids": list(dict.fromkeys(u.lists["movies"])),
        "annotations": json.dumps(annotations, sort_keys=True, ensure_ascii=False),
    }


def dialog_row(d: Dialogue, split: str, source: str) -> dict:
    first = d.utterances[0]
    outcome = next((u.outcome for u in d.utterances if u.outcome["movie_id"]), first.outcome)
    meta = {
        "lines": [d.utterances[0].line, d.utterances[-1].line],
        "recommended_trailer_id": outcome["movie_id"],
        "case": outcome["fine_label"],
        "coarse_case": outcome["coarse_label"],
        "num_source_turns": max(u.turn_id for u in d.utterances),
        **{k: v for k, v in first.dicts.items()},
    }
    return {
        "dialog_id": d.dialog_id,
        "split": split,
        "source": source,
        "num_turns": len(d.utterances),
        "domain": "movies",
        "meta": json.dumps(meta, sort_keys=True, ensure_ascii=False, default=str),
    }
