"""Synthetic INSPIRED corpus in the native TSV format, any size, with a movie database.

The structure is learnable on purpose (as the ReDial generator's): every movie has a genre and a
plot drawn from that genre's words; the seeker names a genre it likes and a movie of it, the
recommender asks, then recommends a movie of the same genre and argues with a sociable strategy.
The native traps are reproduced (../shared/samples/inspired/SOURCE.md): Python-literal dicts,
`;`-joined lists with stray spaces, `QUOTATION_MARK` tokens in `text` and CSV-quoted
`text_with_placeholder` cells with doubled quotes, dialogue ids ending in `.pkl`, the recommended
trailer id repeated on every row, strategy columns named as in the file (`expert_label`, ...).

Layout written under OUT:
    train.tsv, dev.tsv, test.tsv   one row per utterance (about 80/10/10, like INSPIRED)
    movie_database.tsv             title, year, genre, actors, director, plot (with --database)
    GENERATED.json                 the config and the counts a build should report
With `--bad N`, N bad rows are appended to train.tsv (wrong field count, bad speaker, bad utt_id,
bad dict literal): each is one dead letter at stage `utterances`.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import random
from collections import Counter
from dataclasses import dataclass

from pipelines.inspired.reader import COLUMNS

GENRES = {
    "comedy": ("hilarious", "awkward", "road trip", "wedding", "roommates"),
    "horror": ("haunted", "creepy", "cabin", "curse", "night"),
    "drama": ("moving", "family", "grief", "small town", "letters"),
    "action": ("explosive", "heist", "chase", "mercenary", "rescue"),
    "documentary": ("true", "ocean", "archive", "climbers", "interviews"),
    "romance": ("sweet", "summer", "second chance", "pen pals", "bakery"),
}
STRATEGIES = ("credibility", "personal_opinion", "encouragement", "similarity", "self_modeling", "transparency")
CASES = (("accept_rating_good", "accept_new"), ("accept_rating_mod", "accept_new"), ("reject", "reject"), ("accept_others", "accept_new"))
WORDS = ("Silver", "Harbor", "Midnight", "Paper", "Orchard", "Lantern", "Winter", "Copper", "Echo", "Meadow", "Iron", "Velvet")
ACTORS = ("Ada Brooks", "Ravi Lane", "Mia Torres", "Owen Hart", "Lena Cho", "Sam Price")
BAD_KINDS = ("fields", "speaker", "utt_id", "dict")


@dataclass
class GeneratorConfig:
    out: str
    dialogs: int = 100
    movies: int = 0  # 0: scale with the dialogs
    database: bool = True
    bad: int = 0
    seed: int = 0


def make_movies(rng: random.Random, n: int) -> list[dict]:
    movies, seen = [], set()
    genres = list(GENRES)
    while len(movies) < n:
        title = f"The {rng.choice(WORDS)} {rng.choice(WORDS)}" if rng.random() < 0.5 else f"{rng.choice(WORDS)} {rng.choice(WORDS)}"
        year = rng.randint(1985, 2020)
        if (title, year) in seen:
            continue
        seen.add((title, year))
        genre = genres[len(movies) % len(genres)]
        words = GENRES[genre]
        plot = f"A {words[0]} story about {rng.choice(words[2:])} and {rng.choice(words[1:])} times."
        movies.append(
            {"title": title, "year": year, "genre": genre, "actor": rng.choice(ACTORS), "plot": plot, "name": f"{title} ({year})"}
        )
    return movies


def _dicts(movies: list[dict], genres: list[str], actors: list[str]) -> dict[str, str]:
    return {
        "movie_dict": repr({m["name"]: i for i, m in enumerate(movies)}),
        "genre_dict": repr({g: i for i, g in enumerate(genres)}),
        "actor_dict": repr({a: i for i, a in enumerate(actors)}),
        "director_dict": "{}",
        "others_dict": "",
    }


def make_dialogue(rng: random.Random, did: str, movies: list[dict], by_genre: dict[str, list[dict]]) -> list[dict]:
    genre = rng.choice(list(GENRES))
    liked = rng.choice(by_genre[genre])
    rec = rng.choice([m for m in by_genre[genre] if m is not liked] or [liked])
    other = rng.choice(list(GENRES))
    mentioned = [liked, rec]
    dicts = _dicts(mentioned, [genre, other], [rec["actor"]])
    case = rng.choice(CASES)
    trailer = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") for _ in range(11))
    q = "QUOTATION_MARK"
    script = [
        ("RECOMMENDER", 1, "Hi! What kind of movies do you like?", None, [], [], [], "opinion_inquiry"),
        (
            "SEEKER",
            1,
            f"I really like {genre} movies, not so much {other}.",
            "I really like [MOVIE_GENRE_0] movies, not so much [MOVIE_GENRE_1].",
            [],
            [genre, other],
            [],
            None,
        ),
        ("RECOMMENDER", 2, "What was the last one you enjoyed?", None, [], [], [], "experience_inquiry"),
        (
            "SEEKER",
            2,
            f"I watched {q}{liked['title']}{q} and loved it, so {GENRES[genre][0]}.",
            f'I watched "[MOVIE_TITLE_0]" and loved it, so {GENRES[genre][0]}.',
            [liked["name"]],
            [],
            [],
            None,
        ),
        (
            "RECOMMENDER",
            3,
            f"Then you should see {rec['title']}, it is {rec['plot'].lower()[2:]}",
            "Then you should see [MOVIE_TITLE_1], it is [MOVIE_PLOT]",
            [rec["name"]],
            [],
            [],
            rng.choice(STRATEGIES),
        ),
        ("RECOMMENDER", 3, f"{rec['actor']} is great in it.", "[MOVIE_P_ACTOR_0] is great in it.", [], [], [rec["actor"]], "credibility"),
        ("SEEKER", 3, "Sounds good, I will watch the trailer.", None, [], [], [], None),
    ]
    rows = []
    for i, (speaker, turn, text, ph, mv, gn, people, label) in enumerate(script):
        rows.append(
            {
                "dialog_id": did,
                "utt_id": str(i + 1),
                "speaker": speaker,
                "turn_id": str(turn),
                "text": text,
                "text_with_placeholder": ph or text,
                "movies": ";  ".join(mv),
                "genres": ";  ".join(gn),
                "people_names": ";  ".join(people),
                **dicts,
                "expert_label": label or "",
                "second_label": "",
                "fine_label": case[0],
                "coarse_label": case[1],
                "movie_id": trailer,
            }
        )
    return rows


def _tsv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow([r[c] for c in COLUMNS])
    return buf.getvalue()


def _bad(kind: str, row: dict) -> dict:
    row = dict(row, dialog_id=row["dialog_id"].replace(".pkl", f"_bad_{kind}.pkl"))
    if kind == "speaker":
        row["speaker"] = "NARRATOR"
    elif kind == "utt_id":
        row["utt_id"] = "first"
    elif kind == "dict":
        row["movie_dict"] = "{'Unclosed (2001)': 0"
    return row


def _write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    os.replace(tmp, path)


def generate(cfg: GeneratorConfig) -> dict:
    """Write the corpus; returns the counts a build of it should report."""
    rng = random.Random(cfg.seed)
    movies = make_movies(rng, cfg.movies or max(len(GENRES) * 4, cfg.dialogs // 2))
    by_genre: dict[str, list[dict]] = {}
    for m in movies:
        by_genre.setdefault(m["genre"], []).append(m)
    files: dict[str, list[dict]] = {"train": [], "dev": [], "test": []}
    counts: Counter = Counter()
    n_eval = max(1, round(cfg.dialogs * 0.1)) if cfg.dialogs >= 3 else 0
    for i in range(cfg.dialogs):
        split = "test" if i >= cfg.dialogs - n_eval else ("dev" if i >= cfg.dialogs - 2 * n_eval else "train")
        rows = make_dialogue(rng, f"20200101-{i:06d}_{rng.randint(100, 999)}_live.pkl", movies, by_genre)
        files[split].append(rows)
        counts[f"dialogs_{'valid' if split == 'dev' else split}"] += 1
        counts["utterances"] += len(rows)
    lines = {s: [r for d in ds for r in d] for s, ds in files.items()}
    for j in range(cfg.bad):
        kind = BAD_KINDS[j % len(BAD_KINDS)]
        lines["train"].append(_bad(kind, lines["train"][0] if lines["train"] else make_dialogue(rng, "bad.pkl", movies, by_genre)[0]))
        counts["dead_utterances"] += 1
    for split, rows in lines.items():
        text = _tsv(rows)
        if split == "train":
            for j in range(cfg.bad):  # wrong field count: a cell lost its tab
                if BAD_KINDS[j % len(BAD_KINDS)] == "fields":
                    text = _tsv_drop_tab(text, len(rows) - cfg.bad + j)
        _write(os.path.join(cfg.out, f"{split}.tsv"), text)
    counts["products"] = len({name for d in files.values() for rows in d for r in rows for name in ast.literal_eval(r["movie_dict"])})
    if cfg.database:
        buf = io.StringIO()
        w = csv.writer(buf, delimiter="\t", lineterminator="\n")
        w.writerow(("title", "year", "genre", "actors", "director", "plot"))
        for m in movies:
            w.writerow((m["title"], m["year"], m["genre"], m["actor"], "", m["plot"]))
        _write(os.path.join(cfg.out, "movie_database.tsv"), buf.getvalue())
        counts["products"] = len(movies)
    result = dict(sorted(counts.items()))
    _write(
        os.path.join(cfg.out, "GENERATED.json"),
        json.dumps({"generator": "mmdial.inspired", "config": cfg.__dict__, "counts": result}, indent=2, sort_keys=True),
    )
    return result


def _tsv_drop_tab(text: str, row_index: int) -> str:
    """Join two cells of data row `row_index` (0-based after the header): one field too few."""
    lines = text.split("\n")
    line = lines[row_index + 1]
    cut = line.find("\t", line.find("\t") + 1)
    lines[row_index + 1] = line[:cut] + " " + line[cut + 1 :]
    return "\n".join(lines)
