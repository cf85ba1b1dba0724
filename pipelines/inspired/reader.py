"""Parse INSPIRED's native TSV files (`train.tsv`, `dev.tsv`, `test.tsv`: one row per utterance).

The traps this handles (../shared/samples/inspired/SOURCE.md, FORMATS.md):
- the file is tab-separated with CSV quoting: `text_with_placeholder` may be wrapped in double
  quotes with inner quotes doubled (`"... ""[MOVIE_TITLE_0]"" ."`), so rows are read with a CSV
  reader, never split on tabs;
- `text` writes quotation marks as the token `QUOTATION_MARK` (`saw QUOTATION_MARKHustlersQUOTATION_MARK`):
  restored to `"` in `text` (the raw token is kept in the turn's annotations);
- the `*_dict` columns are Python literals (single quotes), not JSON: read with `ast.literal_eval`,
  an empty cell is an empty dict;
- `movies`, `genres`, `people_names` are `;`-joined with stray spaces (`comedy;  drama`) or empty;
- the header names the strategy columns `expert_label`, `second_label`, `fine_label`,
  `coarse_label`, where the dataset's README says `first_label`, `second_label`, `case`: the file
  wins, the README names are accepted as aliases;
- `dialog_id` ends in `.pkl` and is kept verbatim; `movie_id` is a YouTube trailer id (the movie
  the recommender recommended), repeated on every row of a dialogue.

A row that cannot be read raises `Reject` (the build dead-letters it with its line number).
"""

from __future__ import annotations

import ast
import csv
import io as _io
from dataclasses import dataclass, field

from pipelines.core.context import Reject

REQUIRED = ("dialog_id", "utt_id", "speaker", "turn_id", "text")
OPTIONAL = (
    "text_with_placeholder",
    "movies",
    "genres",
    "people_names",
    "movie_dict",
    "genre_dict",
    "actor_dict",
    "director_dict",
    "others_dict",
    "expert_label",
    "second_label",
    "fine_label",
    "coarse_label",
    "movie_id",
)
COLUMNS = REQUIRED + OPTIONAL
ALIASES = {"first_label": "expert_label", "case": "fine_label"}  # README-original.md's names
LISTS = ("movies", "genres", "people_names")
DICTS = ("movie_dict", "genre_dict", "actor_dict", "director_dict", "others_dict")
SPEAKERS = {"RECOMMENDER": "system", "SEEKER": "user"}
QUOTE_TOKEN = "QUOTATION_MARK"


@dataclass
class Utterance:
    line: int  # 1-based line of the row in its file
    dialog_id: str
    utt_id: int
    turn_id: int
    role: str  # RECOMMENDER | SEEKER
    text: str  # QUOTATION_MARK restored to "
    raw_text: str
    placeholder: str | None
    lists: dict[str, list[str]]
    dicts: dict[str, dict]
    labels: dict[str, str | None]  # expert_label, second_label (per utterance)
    outcome: dict[str, str | None]  # fine_label, coarse_label, movie_id (per dialogue)

    @property
    def speaker(self) -> str:
        return SPEAKERS[self.role]


@dataclass
class Dialogue:
    dialog_id: str
    utterances: list[Utterance] = field(default_factory=list)


def read_rows(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(header with aliases resolved, [(line, cells)]) of one TSV file. Quoted cells may span lines;
    `line` is where the row starts."""
    text = data.decode("utf-8-sig")
    reader = csv.reader(_io.StringIO(text, newline=""), delimiter="\t", quotechar='"')
    rows, header, start = [], None, 1
    for cells in reader:
        if header is None:
            header = [ALIASES.get(c.strip(), c.strip()) for c in cells]
        elif cells and any(c.strip() for c in cells):
            rows.append((start, cells))
        start = reader.line_num + 1
    return header or [], rows


def missing_columns(header: list[str]) -> list[str]:
    return [c for c in REQUIRED if c not in header]


def split_list(cell: str) -> list[str]:
    return [p.strip() for p in cell.split(";") if p.strip()]


def literal_dict(cell: str, column: str) -> dict:
    if not cell.strip():
        return {}
    try:
        value = ast.literal_eval(cell)
    except (ValueError, SyntaxError) as exc:
        raise Reject(f"'{column}' is not a Python literal: {exc}") from None
    if not isinstance(value, dict):
        raise Reject(f"wrong type: '{column}' must be a dict, got {type(value).__name__}")
    return value


def _int(cell: str, column: str) -> int:
    try:
        return int(cell.strip())
    except ValueError:
        raise Reject(f"wrong type: '{column}' must be an integer, got {cell!r}") from None


def parse_row(header: list[str], line: int, cells: list[str]) -> Utterance:
    if len(cells) != len(header):
        raise Reject(f"{len(cells)} fields where the header has {len(header)} (a tab inside an unquoted cell, or a truncated row?)")
    row = dict(zip(header, cells, strict=True))
    dialog_id = row["dialog_id"].strip()
    if not dialog_id:
        raise Reject("empty dialog_id")
    role = row["speaker"].strip().upper()
    if role not in SPEAKERS:
        raise Reject(f"unknown speaker {row['speaker']!r} (expected RECOMMENDER or SEEKER)")

    def opt(col):
        value = row.get(col, "").strip()
        return value or None

    return Utterance(
        line=line,
        dialog_id=dialog_id,
        utt_id=_int(row["utt_id"], "utt_id"),
        turn_id=_int(row["turn_id"], "turn_id"),
        role=role,
        text=row["text"].replace(QUOTE_TOKEN, '"').strip(),
        raw_text=row["text"],
        placeholder=row.get("text_with_placeholder"),
        lists={c: split_list(row.get(c, "")) for c in LISTS},
        dicts={c: literal_dict(row.get(c, ""), c) for c in DICTS},
        labels={"expert_label": opt("expert_label"), "second_label": opt("second_label")},
        outcome={"fine_label": opt("fine_label"), "coarse_label": opt("coarse_label"), "movie_id": opt("movie_id")},
    )


def group(utterances: list[Utterance]) -> list[Dialogue]:
    """Dialogues in order of first appearance, each with its rows ordered by utt_id."""
    out: dict[str, Dialogue] = {}
    for u in utterances:
        out.setdefault(u.dialog_id, Dialogue(u.dialog_id)).utterances.append(u)
    for d in out.values():
        d.utterances.sort(key=lambda u: (u.utt_id, u.line))
    return list(out.values())


def check_dialogue(d: Dialogue) -> None:
    """Structural checks of a whole dialogue (raise Reject)."""
    ids = [u.utt_id for u in d.utterances]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise Reject(f"duplicate utt_id {dup[:5]} in dialogue {d.dialog_id}")
    recommended = {u.outcome["movie_id"] for u in d.utterances if u.outcome["movie_id"]}
    if len(recommended) > 1:
        raise Reject(f"rows of dialogue {d.dialog_id} name {len(recommended)} different recommended movies {sorted(recommended)[:3]}")
