"""INSPIRED's movies: the titles its dialogues name, with `movie_database.tsv` metadata when present.

Why from the dialogues: the release's movie database is referenced but not always shipped, and the
dialogue rows already name every movie they mention (`movie_dict` keys, `movies` column, both as
`Title (Year)`), so a build without the database still has a product per mentioned movie (MESE's
item text is then the title and year alone). `movie_database.tsv`, when present, is a TSV with a
header; its `title` column (or `movie_name` / `movie` / `name`) plus `year` names the movie as the
dialogues do, every other column becomes an attribute (MESE reads title, year, genre, actors,
director, plot).
"""

from __future__ import annotations

import re

from pipelines.core.context import Reject, ShardContext
from pipelines.inspired.reader import literal_dict, read_rows, split_list
from schemas.core import SPLIT_SHARED

TITLE_COLUMNS = ("title", "movie_name", "movie", "name")
MESE_FIELDS = ("title", "year", "genre", "actors", "director", "plot")
_TITLE_YEAR = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})\)\s*$")


def title_and_year(name: str) -> tuple[str, str | None]:
    m = _TITLE_YEAR.match(" ".join(name.split()))
    return (m.group("title"), m.group("year")) if m and m.group("title") else (" ".join(name.split()), None)


def titles_in(data: bytes) -> dict[str, int]:
    """Movie title -> rows naming it (in `movies`), over one dialog file; `movie_dict` keys count
    too (with 0 rows when no row names them). Unreadable cells are skipped here: the dialog unit
    dead-letters their rows."""
    header, rows = read_rows(data)
    out: dict[str, int] = {}
    for _, cells in rows:
        if len(cells) != len(header):
            continue
        row = dict(zip(header, cells, strict=True))
        for title in split_list(row.get("movies", "")):
            out[title] = out.get(title, 0) + 1
        try:
            keys = literal_dict(row.get("movie_dict", ""), "movie_dict")
        except Reject:
            continue
        for title in keys:
            if isinstance(title, str) and title.strip():
                out.setdefault(title.strip(), 0)
    return out


def read_database(path: str, ctx: ShardContext) -> dict[str, dict[str, str]]:
    """`Title (Year)` -> metadata of movie_database.tsv; one record per row (stage `metadata`)."""
    from pipelines.core.io import read_bytes

    header, rows = read_rows(read_bytes(path))
    key = next((c for c in TITLE_COLUMNS if c in header), None)
    if key is None:
        ctx.reject("metadata", path, "line 1", f"movie_database.tsv header has no title column ({TITLE_COLUMNS}); got {header}")
        return {}
    out: dict[str, dict[str, str]] = {}
    for line, cells in rows:
        with ctx.record("metadata", path, f"line {line}", raw="\t".join(cells)):
            if len(cells) != len(header):
                raise Reject(f"{len(cells)} fields where the header has {len(header)}")
            row = {h: c.strip() for h, c in zip(header, cells, strict=True)}
            title, year = title_and_year(row[key])
            year = row.get("year") or year
            if not title:
                raise Reject("empty title")
            name = f"{title} ({year})" if year else title
            if name in out:
                raise Reject(f"duplicate movie {name!r}")
            out[name] = {**{k: v for k, v in row.items() if v and k != key}, "title": title, **({"year": year} if year else {})}
    return out


def product_row(name: str, mentions: int, meta: dict | None) -> dict:
    """A `products` row: `product_id` is the title as the dialogues write it (`Title (Year)`)."""
    title, year = title_and_year(name)
    attrs = {"title": title, "movie_name": name, "nb_mentions": str(mentions), **({"year": year} if year else {})}
    attrs.update(meta or {})
    return {
        "product_id": name,
        "split": SPLIT_SHARED,
        "name": attrs["title"],
        "category": attrs.get("genre"),
        "attributes": sorted(attrs.items()),
        "description": "; ".join(f"{k}: {attrs[k]}" for k in MESE_FIELDS if attrs.get(k)),
        "image_refs": [],
        "image_ids": [],
        "source": "movie_database.tsv" if meta else "dialogues",
    }
