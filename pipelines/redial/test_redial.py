"""ReDial pipeline: line ranges, parsing traps, end-to-end builds over generated and real data, bad input."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest

from pipelines.core.builder import UsageError, WorkUnit
from pipelines.core.context import Reject, ShardContext
from pipelines.core.parquet import read_table
from pipelines.core.splits import stable_fraction
from pipelines.redial.builder import RedialBuilder
from pipelines.redial.generator import GeneratorConfig, generate
from pipelines.redial.lines import line_ranges
from pipelines.redial.reader import parse_dialog, render, title_and_year
from schemas.core import pairs_to_dict

REPO = Path(__file__).resolve().parents[2]
# ../shared/samples beside the clone (CI); MMDIAL_SAMPLES overrides it (e.g. from a git worktree)
REDIAL_SAMPLES = Path(os.environ.get("MMDIAL_SAMPLES", REPO.parent / "shared" / "samples")) / "redial"


def build(builder, out, **kw):
    from pipelines.core.engine import BuildOptions, run_build

    return run_build(builder, BuildOptions(out=str(out), workers=1, progress=False, **kw))


def rows(out, table, split=None):
    return read_table(str(out), table, split).to_pylist()


def dead_by_stage(out) -> Counter:
    return Counter(r["stage"] for r in rows(out, "dead_letters"))


def dialog_line(cid="1", messages=None, mentions=None, iq=None, rq=None, initiator=1, respondent=2) -> dict:
    return {
        "movieMentions": {"10": "Alpha  (1990)", "20": "Beta "} if mentions is None else mentions,
        "respondentQuestions": {"20": {"suggested": 1, "seen": 0, "liked": 2}} if rq is None else rq,
        "messages": messages
        if messages is not None
        else [
            {"timeOffset": 0, "text": "hi, I liked @10", "senderWorkerId": initiator, "messageId": 1},
            {"timeOffset": 5, "text": "any ideas?", "senderWorkerId": initiator, "messageId": 2},
            {"timeOffset": 9, "text": "try @20!", "senderWorkerId": respondent, "messageId": 3},
        ],
        "conversationId": cid,
        "respondentWorkerId": respondent,
        "initiatorWorkerId": initiator,
        "initiatorQuestions": {"10": {"suggested": 0, "seen": 1, "liked": 1}} if iq is None else iq,
    }


# -- pure functions ---------------------------------------------------------------------------
@pytest.mark.parametrize("unit", [1, 7, 30, 10_000])
def test_line_ranges_cover_the_file_on_line_ends(tmp_path, unit):
    lines = [b"a" * (1 + i % 13) for i in range(40)]
    data = b"\n".join(lines)  # last line without a newline
    path = tmp_path / "f.jsonl"
    path.write_bytes(data)
    ranges = line_ranges(str(path), unit, block_bytes=16)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
    assert all(start < end for start, end, _ in ranges)
    for (_, e1, _), (s2, _, _) in zip(ranges, ranges[1:], strict=False):
        assert e1 == s2 and data[e1 - 1 : e1] == b"\n"
    for start, _, before in ranges:
        assert before == data[:start].count(b"\n")
    if unit == 1:
        assert len(ranges) == 40  # one line each
    if unit >= len(data):
        assert len(ranges) == 1


def test_names_and_templates():
    assert title_and_year("Police Academy  (1984)") == ("Police Academy", "1984")
    assert title_and_year("American Pie ") == ("American Pie", None)
    names = {"1": "Alpha (1990)"}
    assert render("see @1, not @2 or @ 3", names) == ("see Alpha (1990), not @2 or @ 3", "see [PH], not @2 or @ 3")


def test_parse_merges_consecutive_messages_and_maps_workers():
    d = parse_dialog(json.dumps(dialog_line(cid="20001", iq=[], rq=[])))
    assert d.conversation_id == "20001"
    assert [(t.role, t.speaker, [m.index for m in t.messages]) for t in d.turns] == [
        ("seeker", "user", [0, 1]),
        ("recommender", "system", [2]),
    ]
    assert d.forms == {"seeker": [], "recommender": []}
    assert parse_dialog(json.dumps(dialog_line(cid=20001))).conversation_id == "20001"  # the datasheet's integer
    with pytest.raises(Reject, match="unknown worker id 7"):
        parse_dialog(json.dumps(dialog_line(messages=[{"text": "x", "senderWorkerId": 7}])))


# -- end to end over generated data -----------------------------------------------------------
@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("redial")
    counts = generate(GeneratorConfig(out=str(root / "raw"), dialogs=160, bad=6, seed=3))
    builder = RedialBuilder(raw=str(root / "raw"), unit_bytes=16 * 1024, valid_fraction=0.1, valid_seed=5)
    manifest = build(builder, root / "out", shard_bytes=64 * 1024)
    return root, counts, manifest


def test_generated_build_counts_match_the_generator(generated):
    root, counts, m = generated
    out = root / "out"
    assert m["num_shards"] > 1 and m["counts_reconcile"]
    tables = {t: sum(s["rows"] for s in splits.values()) for t, splits in m["tables"].items()}
    assert tables["dialogs"] == counts["dialogs"]
    assert tables["turns"] == counts["turns"]
    # a recommender turn whose only movie is the uncatalogued one has no positive left: no sample
    assert tables["rec_samples"] == m["table_stats"]["rec_samples"]["samples"]
    assert counts["rec_samples"] - counts["uncatalogued"] <= tables["rec_samples"] <= counts["rec_samples"]
    assert (m["integrity"]["dangling"], m["integrity"]["duplicates"]) == ({}, {})
    # the generator names its one uncatalogued movie once, in a recommender turn: that positive is left out
    assert m["table_stats"]["rec_samples"]["positives"] == counts["positives"] - counts["uncatalogued"]
    assert m["table_stats"]["rec_samples"]["negatives"] == 0
    assert tables["redial_movie_labels"] == counts["labels"]
    assert tables["products"] == counts["products"]
    assert m["stats"]["messages"] == counts["messages"]
    assert m["stages"]["mentions"]["in"] == counts["mentions"]
    assert m["stages"]["metadata"]["out"] == counts["metadata"] == m["stats"]["movies_with_metadata"]
    assert m["stats"]["questionnaires_empty_seeker"] + m["stats"]["questionnaires_empty_recommender"] == counts["empty_forms"]
    assert m["dead_letters"]["by_stage"] == {
        "dialogs": counts["bad_dialogs"],
        "mentions": counts["bad_mentions"],
        "labels": counts["bad_labels"],
        "catalogue": counts["uncatalogued"],
    }
    reasons = {(r["stage"], r["reason"].split(":")[0]) for r in rows(out, "dead_letters")}
    assert reasons == {
        ("dialogs", "malformed JSON (truncated line?)"),
        ("dialogs", "wrong type"),
        ("dialogs", "unknown worker id 999999 in message 1"),
        ("mentions", "unknown movie @9000003"),
        ("labels", "bad label"),
        ("catalogue", "movie reference '8000005' is not in the build's catalogue (movies_with_mentions.csv)"),
    }
    # the bad lines are the last 6 of train_data.jsonl: their line numbers are exact across units
    n_train = counts["dialogs_train"] + counts["bad_dialogs"]
    assert sorted(r["locator"] for r in rows(out, "dead_letters") if r["stage"] == "dialogs") == [
        f"line {n_train - 5 + i}" for i in range(3)
    ]


def test_valid_is_a_seeded_carve_out_of_train(generated):
    root, counts, _ = generated
    dialogs = rows(root / "out", "dialogs")
    by_split = Counter(d["split"] for d in dialogs)
    assert by_split["test"] == counts["dialogs_test"]
    assert by_split["train"] + by_split["valid"] == counts["dialogs_train"]
    assert 0 < by_split["valid"] < by_split["train"]
    for d in dialogs:
        if d["split"] != "test":
            assert (d["split"] == "valid") == (stable_fraction(d["dialog_id"], "redial-valid:5") < 0.1)
    assert len({d["dialog_id"] for d in dialogs}) == len(dialogs)
    for table in ("turns", "rec_samples", "redial_movie_labels"):
        split_of = {d["dialog_id"]: d["split"] for d in dialogs}
        assert all(r["split"] == split_of[r["dialog_id"]] for r in rows(root / "out", table))


def test_generated_recommendations_share_the_liked_movies_genre(generated):
    root, _, _ = generated
    genres = {p["product_id"]: set((p["category"] or "").split(", ")) - {""} for p in rows(root / "out", "products")}
    turns = {(t["dialog_id"], t["turn_index"]): t for t in rows(root / "out", "turns")}
    samples = rows(root / "out", "rec_samples")
    assert samples
    checked = 0
    for s in samples:
        liked = next(i for c in s["context"] for i in turns[(s["dialog_id"], c["turn_index"])]["item_ids"])
        for pid in s["positive_ids"]:
            if genres.get(pid) and genres.get(liked):  # movies without metadata (or uncatalogued) have no genre
                assert genres[pid] & genres[liked], (s["sample_id"], pid, liked)
                checked += 1
    assert checked > len(samples)
    products = rows(root / "out", "products")
    described = [p for p in products if "plot: " in p["description"]]
    assert described and all(p["description"].startswith("title: ") and "genre: " in p["description"] for p in described)
    # a second genre for some movies (so MESE's single-genre subset is a real subset), plots in the genre's words
    assert 0 < sum(len(genres[p["product_id"]]) == 2 for p in described) < len(described) / 2
    assert all(f"{p['category'].split(', ')[0]} film about" in p["description"] for p in described)


def _source_turns(raw: Path, catalogue: set[str]):
    """(dialog id, merged turn index) -> (resolvable mentions, unresolvable mentions, repeated ids), from the raw jsonl."""
    out = {}
    for path in raw.glob("*_data.jsonl"):
        for line in path.read_text().splitlines():
            try:
                d = json.loads(line)
                turns, prev = [], None
                for m in d["messages"]:
                    if m["senderWorkerId"] != prev:
                        turns.append([])
                    turns[-1].append(m["text"])
                    prev = m["senderWorkerId"]
            except (ValueError, TypeError, KeyError):
                continue  # the bad lines
            known = catalogue | set(d["movieMentions"])
            for i, texts in enumerate(turns):
                ids = [x for t in texts for x in re.findall(r"@(\d+)", t)]
                ok = [x for x in ids if x in known]
                out[(d["conversationId"], i)] = (len(ok), len(ids) - len(ok), len(ok) - len(set(ok)))
    return out


def test_every_mention_is_templated_once_even_when_repeated(generated):
    """Each resolvable `@id` becomes exactly one `[PH]` (a repeat in one message too); nothing else does."""
    root, _, _ = generated
    catalogue = {line.split(",")[0] for line in (root / "raw" / "movies_with_mentions.csv").read_text().splitlines()[1:]}
    source = _source_turns(root / "raw", catalogue)
    turns = rows(root / "out", "turns")
    assert sum(source[(t["dialog_id"], t["turn_index"])][2] > 0 for t in turns) >= 10  # the generator repeats mentions
    for t in turns:
        resolvable, unknown, _ = source[(t["dialog_id"], t["turn_index"])]
        assert t["text_templated"].count("[PH]") == resolvable, t
        assert len(re.findall(r"@\d+", t["text_templated"])) == len(re.findall(r"@\d+", t["text"])) == unknown, t
        assert "[PH]" not in t["text"]
    assert render("@1 then @1 again, and @2", {"1": "Alpha (1990)"}) == (
        "Alpha (1990) then Alpha (1990) again, and @2",
        "[PH] then [PH] again, and @2",
    )


def test_rebuild_resumes_and_is_identical(generated):
    from pipelines.core.manifest import content_view

    root, _, first = generated
    again = build(
        RedialBuilder(raw=str(root / "raw"), unit_bytes=16 * 1024, valid_fraction=0.1, valid_seed=5), root / "out", shard_bytes=64 * 1024
    )
    assert again["run"]["shards_resumed"] == first["num_shards"]
    assert content_view(again) == content_view(first)


def test_cli_generate_and_build_with_csv_metadata(tmp_path):
    from typer.testing import CliRunner

    from pipelines.cli.main import app

    runner = CliRunner()
    res = runner.invoke(
        app, ["generate", "redial", "--out", str(tmp_path / "raw"), "--dialogs", "30", "--metadata-format", "csv", "--seed", "2"]
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "raw" / "movies_metadata.csv").exists()
    res = runner.invoke(
        app,
        [
            "build",
            "redial",
            "--raw",
            str(tmp_path / "raw"),
            "--out",
            str(tmp_path / "out"),
            "--workers",
            "1",
            "--quiet",
            "--valid-fraction",
            "0",
        ],
    )
    assert res.exit_code == 0, res.output
    m = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert "valid" not in m["tables"]["dialogs"]  # no rows: no file, no entry
    assert m["stages"]["metadata"]["dead"] == 0 and m["stats"]["movies_with_metadata"] > 0
    products = {p["product_id"]: p for p in rows(tmp_path / "out", "products")}
    meta = (tmp_path / "raw" / "movies_metadata.csv").read_text().splitlines()[1].split(",")
    p = products[meta[0]]
    assert p["category"] == meta[3].replace("|", ", ") and pairs_to_dict(p["attributes"])["actors"] == meta[4].replace("|", ", ")


# -- the real excerpt -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real(tmp_path_factory):
    if not (REDIAL_SAMPLES / "test_data.subset.jsonl").exists():
        pytest.skip("../shared/samples/redial is not present")
    out = tmp_path_factory.mktemp("redial-real") / "out"
    return out, build(RedialBuilder(raw=str(REDIAL_SAMPLES)), out)


def test_real_excerpt_builds_clean(real):
    out, m = real
    assert m["counts_reconcile"] and m["dead_letters"]["count"] == 0
    assert m["tables"]["dialogs"]["test"]["rows"] == 30 and "train" not in m["tables"]["dialogs"]
    assert m["tables"]["products"]["shared"]["rows"] == 6924
    assert m["stats"]["messages"] == sum(
        len(json.loads(x)["messages"]) for x in (REDIAL_SAMPLES / "test_data.subset.jsonl").read_text().splitlines()
    )


def test_real_mentions_templates_and_merging(real):
    out, _ = real
    turns = [t for t in rows(out, "turns") if t["dialog_id"] == "20001"]
    assert len(turns) == 13  # 15 messages, two consecutive pairs merged
    t2 = turns[2]
    assert t2["speaker"] == "user"
    assert t2["text"] == "Is that a great one? I have never seen it. I have seen American Pie I mean American Pie (1999)"
    assert t2["text_templated"] == "Is that a great one? I have never seen it. I have seen [PH] I mean [PH]"
    assert t2["item_ids"] == ["192131", "134643"]
    assert json.loads(t2["annotations"])["message_ids"] == [204173, 204174]
    assert turns[1]["speaker"] == "system" and turns[1]["text"] == "You should watch Police Academy (1984)"  # double space gone
    assert all("@" not in t["text"] and t["text"].count("[PH]") == 0 for t in rows(out, "turns"))
    assert all(t["text_templated"].count("[PH]") >= len(t["item_ids"]) for t in rows(out, "turns"))
    samples = {s["sample_id"]: s for s in rows(out, "rec_samples")}
    s = samples["20001:3"]
    assert s["positive_ids"] == ["151656", "94688"] and s["negative_ids"] == []
    assert [c["speaker"] for c in s["context"]] == ["user", "system", "user"]


def test_real_questionnaires_given_as_empty_lists(real):
    out, m = real
    labels = rows(out, "redial_movie_labels")
    forms = Counter((r["dialog_id"], r["form"]) for r in labels)
    # lines 19 and 21 of the excerpt: respondentQuestions is []
    for did in ("20131", "20148"):
        assert forms[(did, "seeker")] > 0 and forms[(did, "recommender")] == 0
    assert m["stats"]["questionnaires_empty_recommender"] == 2
    r = next(x for x in labels if x["dialog_id"] == "20001" and x["movie_id"] == "151656" and x["form"] == "seeker")
    assert (r["suggested"], r["seen"], r["liked"], r["movie_name"]) == (1, 0, 1, "Police Academy (1984)")
    assert r["mentioned_by_recommender"] and not r["mentioned_by_seeker"]


# -- bad input --------------------------------------------------------------------------------
def test_bad_input_is_dead_lettered_with_reasons(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "movies_with_mentions.csv").write_text(
        "movieId,movieName,nbMentions\n10,Alpha  (1990),3\n20,Beta ,1\n20,Beta again,1\n30,Gamma (2000),many\n"
    )
    good = dialog_line(cid="g1")
    lines = [
        json.dumps(good),  # 1
        "",  # 2: blank, skipped
        json.dumps(dialog_line(cid=["x"])),  # 3: wrong type
        json.dumps(dialog_line(cid="w", messages=[{"text": 5, "senderWorkerId": 1}])),  # 4: wrong type
        json.dumps(dialog_line(cid="u", messages=[{"text": "hi", "senderWorkerId": 99}])),  # 5: unknown worker
        json.dumps(dialog_line(cid="m", messages=[{"text": "see @10 and @77", "senderWorkerId": 2}])),  # 6: unknown movie
        json.dumps(
            dialog_line(
                cid="l", iq={"10": {"suggested": 0, "seen": 5, "liked": 1}, "99": {"suggested": 0, "seen": 1, "liked": 1}}, rq="nope"
            )
        ),  # 7
        "[1, 2]",  # 8: not an object
        json.dumps(dialog_line(cid="t"))[:-30],  # 9: truncated last line, no newline
    ]
    (raw / "test_data.jsonl").write_text("\n".join(lines))
    out = tmp_path / "out"
    m = build(RedialBuilder(raw=str(raw), unit_bytes=200), out)
    assert m["counts_reconcile"]
    dead = {(r["stage"], r["locator"]): r["reason"] for r in rows(out, "dead_letters")}
    assert dead[("dialogs", "line 3")].startswith("wrong type: 'conversationId'")
    assert dead[("dialogs", "line 4")].startswith("wrong type: message 0 'text'")
    assert dead[("dialogs", "line 5")].startswith("unknown worker id 99")
    assert dead[("dialogs", "line 8")].startswith("wrong type: a dialog line must be a JSON object")
    assert dead[("dialogs", "line 9")].startswith("malformed JSON")
    assert dead[("mentions", "line 6: message 0 @77")].startswith("unknown movie @77")
    assert dead[("labels", "line 7: initiatorQuestions[10]")] == "bad label: seen=5 for movie 10 (allowed [0, 1, 2])"
    assert dead[("labels", "line 7: initiatorQuestions[99]")].startswith("label for movie 99")
    assert dead[("labels", "line 7: respondentQuestions")].startswith("wrong type: 'respondentQuestions'")
    assert dead[("movies", "line 4")] == "duplicate movieId 20"
    assert dead[("movies", "line 5")].startswith("wrong type: nbMentions")
    assert m["stages"]["dialogs"] == {"in": 8, "out": 3, "dead": 5, "filtered": 0}
    assert m["stages"]["mentions"] == {"in": 6, "out": 5, "dead": 1, "filtered": 0}
    assert m["stages"]["labels"] == {"in": 7, "out": 4, "dead": 3, "filtered": 0}
    assert m["stats"]["blank_lines"] == 1
    # the dialog with the unknown movie still builds, keeping the literal mention
    turn = next(t for t in rows(out, "turns") if t["dialog_id"] == "m")
    assert (turn["text"], turn["text_templated"], turn["item_ids"]) == ("see Alpha (1990) and @77", "see [PH] and @77", ["10"])
    assert {p["product_id"]: p["name"] for p in rows(out, "products")} == {"10": "Alpha", "20": "Beta"}


def test_catalogue_and_metadata_bad_records(tmp_path):
    (tmp_path / "movies_with_mentions.csv").write_text("movieId,movieName,nbMentions\n1,One (2001),1\n2,Two,1\n")
    meta = tmp_path / "movies_metadata.jsonl"
    meta.write_text(
        "\n".join(
            [
                json.dumps({"movieId": 1, "title": "One", "year": 2001, "genre": ["drama", "war"], "plot": "p"}),
                json.dumps({"movieId": 1, "title": "dup"}),
                json.dumps({"title": "no id"}),
                json.dumps({"movieId": "2", "year": "soon"}),
                json.dumps({"movieId": "3", "title": "Three", "genre": "comedy"}),
                '{"movieId": "4", "title": ',
            ]
        )
        + "\n"
    )
    b = RedialBuilder(raw=str(tmp_path))
    b.setup()
    ctx = ShardContext("redial")
    b.process(WorkUnit("catalogue", str(tmp_path / "movies_with_mentions.csv"), key=str(meta)), ctx)
    assert {d["locator"]: d["reason"].split(":")[0] for d in ctx.dead_letters} == {
        "line 2": "duplicate movieId 1 in the metadata",
        "line 3": "wrong type",
        "line 4": "wrong type",
        "line 6": "malformed JSON (truncated line?)",
    }
    products = {r["product_id"]: r for r in ctx.rows["products"]}
    assert sorted(products) == ["1", "2", "3"]  # 3 exists only in the metadata
    assert products["1"]["description"] == "title: One; year: 2001; genre: drama, war; plot: p"
    assert products["1"]["category"] == "drama, war" and products["2"]["description"] == "title: Two"
    assert ctx.claimed == {("movie", "1"), ("movie", "2"), ("movie", "3")}


def test_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="no such folder"):
        RedialBuilder(raw=str(tmp_path / "nope")).plan()
    (tmp_path / "test_data.jsonl").write_text("{}\n")
    with pytest.raises(UsageError, match="movies_with_mentions.csv"):
        RedialBuilder(raw=str(tmp_path)).plan()
    (tmp_path / "movies_with_mentions.csv").write_text("movieId,movieName\n")
    (tmp_path / "test_data.jsonl").unlink()
    with pytest.raises(UsageError, match="no dialog files"):
        RedialBuilder(raw=str(tmp_path)).plan()
    with pytest.raises(UsageError, match="valid-fraction"):
        RedialBuilder(raw=str(tmp_path), valid_fraction=1.5)
