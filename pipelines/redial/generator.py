"""Synthetic ReDial corpus in the native format, any size, with movie metadata.

The structure is learnable on purpose: every movie has a main genre (a quarter of them a second
one) and a plot drawn from that genre's own words (adjectives and themes); the seeker states a
preference by naming the genre, by describing a theme of it ("something with a haunted house") or
only by naming a movie of it, and the recommender suggests movies that share the genre. A
recommender can therefore be trained (and checked) on the text and the metadata; when the seeker
only names a movie, the genre is in that movie's metadata alone (what MESE's item encoder reads).
Messages sometimes mention the same movie twice ("@1 ... @1"), as real ReDial messages do.
The native traps are reproduced: conversationId as a string, names with a double space before
the year or with no year, consecutive messages of one worker, questionnaires given as `[]`.

Layout written under OUT:
    train_data.jsonl, test_data.jsonl   one dialog per line (about 88/12, like ReDial)
    movies_with_mentions.csv            movieId,movieName,nbMentions
    movies_metadata.jsonl | .csv        movieId,title,year,genre,actors,director,plot
    GENERATED.json                      the config and the counts a build should report
With `--bad N`, N malformed or partly bad lines are appended to train_data.jsonl (see BAD_KINDS).
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
from collections import Counter
from dataclasses import dataclass

GENRES = {  # genre -> (plot adjectives, plot themes); a plot uses one adjective and two themes of its genre
    "action": (
        ("explosive", "relentless", "high-octane"),
        ("car chases", "a rogue agent", "a bank heist", "a hostage rescue", "a martial arts master", "a ticking bomb"),
    ),
    "comedy": (
        ("hilarious", "goofy", "witty"),
        ("a wacky road trip", "two clumsy friends", "a disastrous wedding", "a talking parrot", "a prank war", "a lazy summer camp"),
    ),
    "horror": (
        ("terrifying", "gruesome", "creepy"),
        ("a haunted house", "a masked killer", "a cursed doll", "zombies in the woods", "a demonic possession", "a cabin in the woods"),
    ),
    "romance": (
        ("heartwarming", "tender", "passionate"),
        (
            "a summer love affair",
            "two strangers in Paris",
            "a secret admirer",
            "a second chance at love",
            "a royal engagement",
            "love letters",
        ),
    ),
    "science fiction": (
        ("mind-bending", "futuristic", "cosmic"),
        ("a distant planet", "time travel", "a rogue android", "an alien invasion", "a starship crew", "a parallel universe"),
    ),
    "animation": (
        ("colourful", "charming", "playful"),
        ("talking animals", "a brave little robot", "a magical forest", "a lost toy", "a singing princess", "a dragon egg"),
    ),
    "thriller": (
        ("suspenseful", "tense", "twisty"),
        ("a missing witness", "a deadly conspiracy", "a stalker", "a kidnapped child", "a corrupt detective", "a stolen identity"),
    ),
    "western": (
        ("dusty", "rugged", "sun-baked"),
        ("a lone gunslinger", "a frontier town", "cattle rustlers", "a train robbery", "a sheriff's revenge", "a gold rush"),
    ),
    "documentary": (
        ("eye-opening", "insightful", "candid"),
        ("the deep ocean", "a famous chef", "climate change", "a jazz legend", "wild elephants", "the space race"),
    ),
    "drama": (
        ("moving", "poignant", "intimate"),
        ("a family secret", "a struggling musician", "a terminal illness", "a small-town teacher", "a bitter divorce", "a prison sentence"),
    ),
}
SECOND_GENRE_RATE = 0.25  # share of movies with a second genre (single-genre ones are MESE's Table 6 subset)
REPEAT_MENTION_RATE = 0.3  # share of mention messages that name their movie twice
ADJECTIVES = ["Silent", "Crimson", "Last", "Hidden", "Golden", "Broken", "Wild", "Lost", "Electric", "Midnight", "Iron", "Velvet"]
NOUNS = ["River", "Empire", "Promise", "Horizon", "Garden", "Signal", "Harbor", "Frontier", "Mirror", "Storm", "Circus", "Legacy"]
FIRST = ["Ava", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lena", "Max", "Nia", "Omar", "Pia"]
LAST = ["Stone", "Rivera", "Okafor", "Lindqvist", "Tanaka", "Moreau", "Novak", "Quinn", "Shah", "Weber"]
FIRST_MOVIE_ID = 75000
FIRST_CONVERSATION_ID = 20000
BAD_KINDS = ("truncated", "wrong_type", "unknown_worker", "unknown_movie", "bad_label", "uncatalogued")
MENTION = re.compile(r"@(\d+)")


@dataclass
class GeneratorConfig:
    out: str
    dialogs: int = 200
    movies: int = 0  # 0: scale with the dialogs
    test_fraction: float = 0.12
    metadata_format: str = "jsonl"  # jsonl | csv | none
    metadata_coverage: float = 0.9  # share of movies that have a metadata record
    empty_form_rate: float = 0.03  # share of questionnaires written as []
    bad: int = 0
    seed: int = 0


def movie_genres(movie: dict) -> list[str]:
    """The movie's genres (metadata `genre` is a string, or a list when it has two)."""
    g = movie["genre"]
    return [g] if isinstance(g, str) else list(g)


def make_movies(rng: random.Random, n: int) -> list[dict]:
    movies, titles = [], set()
    genres = list(GENRES)
    for i in range(n):
        genre = genres[i % len(genres)]
        base = title = f"The {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
        sequel = 1
        while title in titles:  # a sequel number keeps titles unique at any catalogue size
            sequel += 1
            title = f"{base} {sequel}"
        titles.add(title)
        year = rng.randint(1950, 2020)
        style = rng.random()
        name = f"{title}  ({year})" if style < 0.3 else (f"{title} " if style < 0.35 else f"{title} ({year})")
        adjectives, themes = GENRES[genre]
        first, second = rng.sample(themes, 2)
        plot = f"A {rng.choice(adjectives)} {genre} film about {first} and {second}."
        tags: str | list[str] = genre
        if rng.random() < SECOND_GENRE_RATE:
            other = rng.choice([g for g in genres if g != genre])
            tags = [genre, other]
            plot += f" With a touch of {other}: {rng.choice(GENRES[other][1])}."
        movies.append(
            {
                "movieId": str(FIRST_MOVIE_ID + i * 7),
                "name": name,
                "title": title,
                "year": year,
                "genre": tags,
                "actors": [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(3)],
                "director": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                "plot": plot,
            }
        )
    return movies


def _mention(rng: random.Random, movie: dict, template: str) -> str:
    """`template` with `{m}` as the movie's `@id`; sometimes the message names the movie again."""
    text = template.format(m=f"@{movie['movieId']}")
    if rng.random() < REPEAT_MENTION_RATE:
        text += rng.choice([f" @{movie['movieId']} is a classic.", f" Really, @{movie['movieId']}!"])
    return text


def make_dialog(rng: random.Random, cid: str, movies: list[dict], by_genre: dict[str, list[dict]], empty_form_rate: float) -> dict:
    seeker, recommender = rng.sample(range(100, 5000), 2)
    genre = rng.choice(list(GENRES))
    pool = rng.sample(by_genre[genre], min(4, len(by_genre[genre])))
    liked, recs = pool[0], pool[1:]
    msgs: list[tuple[int, str]] = []
    S, R = seeker, recommender
    msgs.append((S, rng.choice(["Hi!", "Hello", "Hey there"])))
    ask = rng.random()
    if ask < 0.5:  # the genre by name
        if rng.random() < 0.5:  # consecutive messages of one worker: merged into one turn by the build
            msgs.append((S, f"I'm looking for a good {genre} movie."))
        preference = _mention(rng, liked, f"I really like {genre} movies, something like {{m}}")
    elif ask < 0.8:  # a theme of the genre, in the plot's words
        preference = _mention(rng, liked, f"I want something with {rng.choice(GENRES[genre][1])}, like {{m}}")
    else:  # only a movie: the genre is in its metadata
        preference = _mention(rng, liked, "My favourite movie is {m}")
    msgs.append((R, rng.choice(["Hi! What kind of movies do you like?", "Hello, what are you in the mood for?"])))
    msgs.append((S, preference))
    msgs.append((R, _mention(rng, recs[0], "Have you seen {m}?")))
    seen_first = rng.random() < 0.4
    msgs.append((S, "Yes, I loved it!" if seen_first else "No, I haven't seen it. Is it good?"))
    extra = recs[1:] if rng.random() < 0.6 else recs[1:2]
    if extra:
        msgs.append((R, _mention(rng, extra[0], f"It's a great {genre} film. You might also like {{m}}")))
        if len(extra) > 1:
            msgs.append((R, f"or @{extra[1]['movieId']}"))
    msgs.append((S, "Thanks, I will check them out!"))
    msgs.append((R, rng.choice(["Enjoy!", "Have a good one!"])))
    messages = [
        {"timeOffset": k * rng.randint(5, 40), "text": text, "senderWorkerId": w, "messageId": int(cid) * 100 + k}
        for k, (w, text) in enumerate(msgs)
    ]
    mentioned = [liked] + [recs[0]] + extra
    mentions = {m["movieId"]: m["name"] for m in mentioned}

    def form(filler: str):
        if rng.random() < empty_form_rate:
            return []
        out = {}
        for m in mentioned:
            suggested = 0 if m is liked else 1
            seen = 1 if (m is liked or (m is recs[0] and seen_first)) else rng.choice([0, 2])
            liked_label = 1 if seen == 1 else rng.choice([1, 2])
            if filler == "respondent" and rng.random() < 0.2:
                seen, liked_label = 2, 2  # the two forms are filled independently and may disagree
            out[m["movieId"]] = {"suggested": suggested, "seen": seen, "liked": liked_label}
        return out

    return {
        "movieMentions": mentions,
        "respondentQuestions": form("respondent"),
        "messages": messages,
        "conversationId": cid,
        "respondentWorkerId": recommender,
        "initiatorWorkerId": seeker,
        "initiatorQuestions": form("initiator"),
    }


def expected_counts(dialog: dict, names: set[str]) -> Counter:
    """What a build reports for one good dialog (turns after merging, samples, labels)."""
    c: Counter = Counter(dialogs=1, messages=len(dialog["messages"]))
    roles = {dialog["initiatorWorkerId"]: "seeker", dialog["respondentWorkerId"]: "recommender"}
    prev = None
    turn_ids: list[tuple[str, list[str]]] = []
    for m in dialog["messages"]:
        w = m["senderWorkerId"]
        ids = [i for i in MENTION.findall(m["text"]) if i in names]
        c["mentions"] += len(MENTION.findall(m["text"]))
        if w == prev:
            turn_ids[-1][1].extend(ids)
        else:
            turn_ids.append((roles[w], ids))
        prev = w
    c["turns"] = len(turn_ids)
    for role, ids in turn_ids:
        if role == "recommender" and ids:
            c["rec_samples"] += 1
            c["positives"] += len(set(ids))
    for key in ("initiatorQuestions", "respondentQuestions"):
        form = dialog[key]
        c["labels"] += len(form) if isinstance(form, dict) else 0
        c["empty_forms"] += 1 if form == [] else 0
    return c


def _write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def _metadata(rng: random.Random, movies: list[dict], cfg: GeneratorConfig) -> tuple[str, str] | None:
    rows = [m for m in movies if rng.random() < cfg.metadata_coverage]
    if cfg.metadata_format == "none":
        return None
    fields = ("title", "year", "genre", "actors", "director", "plot")
    if cfg.metadata_format == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(("movieId",) + fields)
        for m in rows:
            w.writerow([m["movieId"]] + ["|".join(m[f]) if isinstance(m[f], list) else m[f] for f in fields])
        return "movies_metadata.csv", buf.getvalue()
    if cfg.metadata_format != "jsonl":
        raise ValueError(f"metadata_format must be jsonl, csv or none, got {cfg.metadata_format!r}")
    lines = [json.dumps({"movieId": m["movieId"], **{f: m[f] for f in fields}}) for m in rows]
    return "movies_metadata.jsonl", "\n".join(lines) + "\n"


def _bad_line(kind: str, j: int, good: dict, cfg_counts: Counter) -> str:
    """A malformed (or partly bad) dialog line; updates the counts a build should report."""
    if kind == "truncated":
        cfg_counts["bad_dialogs"] += 1
        return json.dumps(good)[:-60]
    if kind == "wrong_type":
        cfg_counts["bad_dialogs"] += 1
        return json.dumps({**good, "messages": "hello"})
    if kind == "unknown_worker":
        cfg_counts["bad_dialogs"] += 1
        good["messages"][1]["senderWorkerId"] = 999999
        return json.dumps(good)
    if kind == "unknown_movie":  # builds; its one mention of an unknown movie is a dead letter
        good["messages"].append(
            {"timeOffset": 999, "text": f"Also @{9_000_000 + j} is great", "senderWorkerId": good["respondentWorkerId"], "messageId": 1}
        )
        cfg_counts["bad_mentions"] += 1
    elif kind == "bad_label":  # builds; one questionnaire entry is a dead letter
        form = good["initiatorQuestions"] if isinstance(good["initiatorQuestions"], dict) else {}
        good["initiatorQuestions"] = form
        mid = next(iter(good["movieMentions"]))
        form[mid] = {"suggested": 0, "seen": 1, "liked": 7}
        cfg_counts["bad_labels"] += 1
        cfg_counts["labels"] -= 1
    else:  # uncatalogued: named in movieMentions but missing from movies_with_mentions.csv
        mid = str(8_000_000 + j)
        good["movieMentions"][mid] = "Not In The Catalogue (1999)"
        good["messages"].append({"timeOffset": 999, "text": f"Try @{mid}", "senderWorkerId": good["respondentWorkerId"], "messageId": 2})
        cfg_counts["uncatalogued"] += 1
    return json.dumps(good)


def generate(cfg: GeneratorConfig) -> dict:
    """Write the corpus; returns the counts a build of it should report."""
    rng = random.Random(cfg.seed)
    movies = make_movies(rng, cfg.movies or max(len(GENRES) * 4, cfg.dialogs // 2))
    by_genre: dict[str, list[dict]] = {}
    for m in movies:
        for g in movie_genres(m):
            by_genre.setdefault(g, []).append(m)
    ids = {m["movieId"] for m in movies}
    counts: Counter = Counter()
    files: dict[str, list[str]] = {"train": [], "test": []}
    n_test = round(cfg.dialogs * cfg.test_fraction)
    mention_counts: Counter = Counter()
    for i in range(cfg.dialogs):
        split = "test" if i >= cfg.dialogs - n_test else "train"
        d = make_dialog(rng, str(FIRST_CONVERSATION_ID + i), movies, by_genre, cfg.empty_form_rate)
        files[split].append(json.dumps(d))
        c = expected_counts(d, ids)
        counts.update(c)
        counts[f"dialogs_{split}"] += 1
        mention_counts.update(MENTION.findall(" ".join(m["text"] for m in d["messages"])))
    for j in range(cfg.bad):
        kind = BAD_KINDS[j % len(BAD_KINDS)]
        d = make_dialog(rng, str(FIRST_CONVERSATION_ID + cfg.dialogs + j), movies, by_genre, 0.0)
        line = _bad_line(kind, j, d, counts)
        if kind in ("unknown_movie", "bad_label", "uncatalogued"):
            c = expected_counts(d, ids if kind != "uncatalogued" else ids | set(d["movieMentions"]))
            counts.update(c)
            counts["dialogs_train"] += 1
        files["train"].append(line)
    for split, lines in files.items():
        _write(os.path.join(cfg.out, f"{split}_data.jsonl"), "".join(line + "\n" for line in lines))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(("movieId", "movieName", "nbMentions"))
    for m in movies:
        w.writerow((m["movieId"], m["name"], mention_counts.get(m["movieId"], 0)))
    _write(os.path.join(cfg.out, "movies_with_mentions.csv"), buf.getvalue())
    counts["products"] = len(movies)
    meta = _metadata(rng, movies, cfg)
    if meta:
        _write(os.path.join(cfg.out, meta[0]), meta[1])
        counts["metadata"] = meta[1].count("\n") - (1 if meta[0].endswith(".csv") else 0)
    result = dict(sorted(counts.items()))
    _write(
        os.path.join(cfg.out, "GENERATED.json"),
        json.dumps({"generator": "mmdial.redial", "config": cfg.__dict__, "counts": result}, indent=2, sort_keys=True),
    )
    return result
