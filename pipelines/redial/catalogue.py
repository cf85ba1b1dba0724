"""The movie catalogue: movies_with_mentions.csv plus the optional metadata file for MESE's item encoder.

movies_with_mentions.csv (ReDial release): header `movieId,movieName,nbMentions`, names as in the
dialogs ("Police Academy  (1984)", sometimes no year).

Movie metadata (mmdial's format, since ReDial ships none; MESE joined an IMDb dump): one movie
per record with the fields

    movieId (required), title, year, genre, actors, director, plot

either as JSON Lines (`.jsonl`: one object per line; genre/actors/director may be a string or a
list of strings) or as CSV (`.csv`: a header row naming the columns; several values in one cell
separated by `|`). Extra fields are kept as product attributes. Values from the metadata win
over what the CSV name implies (title, year).
"""

from __future__ import annotations

import csv
import io as _io
import json

from pipelines.core.context import Reject
from pipelines.redial.reader import normalise_name, title_and_year
from schemas.core import SPLIT_SHARED

CSV_COLUMNS = ("movieId", "movieName")
METADATA_FIELDS = ("title", "year", "genre", "actors", "director", "plot")  # MESE's item text, in its order
LIST_FIELDS = ("genre", "actors", "director")


def decode_text(data: bytes) -> str:
    return data.decode("utf-8-sig")


def csv_rows(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(header, [(line number, cells)]); line numbers are 1-based, the header is line 1."""
    reader = csv.reader(_io.StringIO(decode_text(data), newline=""))
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    for cells in reader:
        if header is None:
            header = [c.strip() for c in cells]
            continue
        if not cells or not any(c.strip() for c in cells):
            continue
        rows.append((reader.line_num, cells))
    return header or [], rows


def movie_from_csv(header: list[str], cells: list[str]) -> dict:
    if len(cells) != len(header):
        raise Reject(f"wrong number of fields: {len(cells)} for a header of {len(header)}")
    row = dict(zip(header, cells, strict=True))
    mid = row["movieId"].strip()
    if not mid:
        raise Reject("empty movieId")
    name = row["movieName"]
    if not name.strip():
        raise Reject(f"empty movieName for movie {mid}")
    out = {"movie_id": mid, "movie_name": normalise_name(name)}
    mentions = row.get("nbMentions", "").strip()
    if mentions:
        if not mentions.isdigit():
            raise Reject(f"wrong type: nbMentions of movie {mid} must be an integer, got {mentions!r}")
        out["nb_mentions"] = mentions
    return out


def _value(key: str, value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise Reject(f"wrong type: metadata field {key!r} must be a string or number, got bool")
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        parts = [p.strip() for p in value.split("|")] if key in LIST_FIELDS and "|" in value else [value.strip()]
        return ", ".join(p for p in parts if p) or None
    if isinstance(value, list) and all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in value):
        return ", ".join(str(v).strip() for v in value if str(v).strip()) or None
    raise Reject(f"wrong type: metadata field {key!r} must be a string, number or list of strings, got {type(value).__name__}")


def normalise_metadata(doc) -> dict[str, str]:
    """One metadata record -> {"movie_id", "title", ...} with every value a non-empty string."""
    if not isinstance(doc, dict):
        raise Reject(f"wrong type: a metadata record must be an object, got {type(doc).__name__}")
    mid = doc.get("movieId")
    if isinstance(mid, int) and not isinstance(mid, bool):
        mid = str(mid)
    if not isinstance(mid, str) or not mid.strip():
        raise Reject(f"wrong type: metadata 'movieId' must be a non-empty string or integer, got {type(mid).__name__}")
    out = {"movie_id": mid.strip()}
    for key, value in doc.items():
        if key == "movieId":
            continue
        v = _value(key, value)
        if v:
            out[str(key)] = v
    year = out.get("year")
    if year is not None:
        if year.endswith(".0"):
            year = out["year"] = year[:-2]
        if not year.isdigit():
            raise Reject(f"wrong type: metadata year of movie {out['movie_id']} must be a number, got {year!r}")
    return out


def metadata_records(path: str, data: bytes):
    """(line number, raw, parsed-or-exception) for each record of a .jsonl or .csv metadata file."""
    if path.lower().endswith(".csv"):
        header, rows = csv_rows(data)
        if "movieId" not in header:
            raise Reject(f"metadata CSV header must name movieId, got {header}")
        for line, cells in rows:
            if len(cells) != len(header):
                yield line, cells, Reject(f"wrong number of fields: {len(cells)} for a header of {len(header)}")
                continue
            yield line, cells, dict(zip(header, cells, strict=True))
        return
    for n, raw in enumerate(_io.BytesIO(data), start=1):
        raw = raw.rstrip(b"\r\n")
        if not raw.strip():
            continue
        try:
            yield n, raw, json.loads(raw)
        except ValueError as exc:
            yield n, raw, Reject(f"malformed JSON (truncated line?): {exc}")


def product_row(movie_id: str, csv_movie: dict | None, meta: dict | None, source: str) -> dict:
    """A `products` row. `description` lists MESE's fields (title, year, genre, actors, director, plot)."""
    attrs: dict[str, str] = {}
    if csv_movie:
        title, year = title_and_year(csv_movie["movie_name"])
        attrs.update({"title": title, "movie_name": csv_movie["movie_name"]})
        if year:
            attrs["year"] = year
        if "nb_mentions" in csv_movie:
            attrs["nb_mentions"] = csv_movie["nb_mentions"]
    for key, value in (meta or {}).items():
        if key != "movie_id":
            attrs[key] = value
    text = [(k, attrs[k]) for k in METADATA_FIELDS if attrs.get(k)]
    return {
        "product_id": movie_id,
        "split": SPLIT_SHARED,
        "name": attrs.get("title"),
        "category": attrs.get("genre"),
        "attributes": sorted(attrs.items()),
        "description": "; ".join(f"{k}: {v}" for k, v in text),
        "image_refs": [],
        "image_ids": [],
        "source": source,
    }
