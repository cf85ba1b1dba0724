"""MESE on INSPIRED: the placeholders mapped to MESE's `[PH]`, turns merged as ReDial's are, and a
few training steps, an evaluation and Table 7's experiment on a generated INSPIRED build."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from modeling.mese.sources import PH, inspired_rows, to_mese_template

TINY = [
    "model.backbone.dim=32",
    "model.backbone.heads=2",
    "model.encoder.dim=32",
    "model.encoder.heads=2",
    "model.encoder.ffn=64",
    "train.epochs=1",
    "eval.generate_turns=3",
    "eval.max_new_tokens=6",
    "eval.cluster_repeats=2",
    "eval.paper_turns=4",
]


def test_titles_become_ph_and_other_placeholders_their_words():
    text = 'I liked "Iron Echo" and Alien, with Sam Price, it is a story about grief.'
    templ = 'I liked "[MOVIE_TITLE_0]" and [MOVIE_TITLE_1], with [MOVIE_P_ACTOR_0], it is [MOVIE_PLOT]'
    assert to_mese_template(templ, text) == f'I liked "{PH}" and {PH}, with Sam Price, it is a story about grief.'
    # no alignment (the text was edited): the dialogue's dictionaries by index, else dropped
    dicts = {"genre_dict": {"horror": 0, "drama": 1}, "actor_dict": {"Ann Lee": 0}}
    got = to_mese_template("[MOVIE_GENRE_1] with [MOVIE_P_ACTOR_0] like [MOVIE_TITLE_0] [MOVIE_PLOT]", "something else", dicts)
    assert got == f"drama with Ann Lee like {PH}"
    assert to_mese_template("no placeholder here", "no placeholder here") == "no placeholder here"


def test_consecutive_rows_of_a_speaker_merge_with_their_movies():
    rows = [
        {
            "dialog_id": "d",
            "turn_index": 2,
            "speaker": "system",
            "text": "See B.",
            "text_templated": "See [MOVIE_TITLE_1].",
            "item_ids": ["B (2000)"],
        },
        {
            "dialog_id": "d",
            "turn_index": 0,
            "speaker": "user",
            "text": "I like A",
            "text_templated": "I like [MOVIE_TITLE_0]",
            "item_ids": ["A (1990)"],
        },
        {"dialog_id": "d", "turn_index": 1, "speaker": "system", "text": "Hi.", "text_templated": "Hi.", "item_ids": []},
        {
            "dialog_id": "d",
            "turn_index": 3,
            "speaker": "system",
            "text": "B again",
            "text_templated": "[MOVIE_TITLE_1] again",
            "item_ids": ["B (2000)"],
        },
    ]
    out = inspired_rows(rows, {})
    assert [(t["turn_index"], t["speaker"]) for t in out] == [(0, "user"), (1, "system")]
    assert out[1]["text_templated"] == f"Hi. See {PH}. {PH} again" and out[1]["item_ids"] == ["B (2000)"]


def test_split_of_a_generated_build_has_no_inspired_placeholder(inspired_build):
    from modeling.mese.data import load_items, load_split

    items = load_items(inspired_build)
    split = load_split(inspired_build, "train", items)
    turns = [t for d in split.dialogs for t in d]
    assert turns and not any(re.search(r"\[MOVIE_", t.templated) for t in turns)
    assert any(PH in t.templated for t in turns) and split.rec_samples()
    # every mentioned movie is an item, and a turn's [PH]s match its mentions (at least one per movie)
    assert all(t.templated.count(PH) >= len(t.items) for t in turns)
    assert not any(a.speaker == b.speaker for d in split.dialogs for a, b in zip(d, d[1:], strict=False))


@pytest.mark.slow
def test_mese_trains_and_evaluates_on_inspired_and_table7_reports(inspired_build, tmp_path):
    from pipelines.cli.main import app

    runner = CliRunner()
    out = tmp_path / "run"
    res = runner.invoke(app, ["train", "mese", "--config", "mese_smoke", f"data={inspired_build}", f"output_dir={out}", *TINY])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["evaluate", "mese", "--run", str(out), "--max-turns", "8"])
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "metrics.json").read_text())
    assert doc["dataset"] == "inspired" and 0 <= doc["metrics"]["R@1"]["mean"] <= doc["metrics"]["R@50"]["mean"] <= 1
    # the paper's language protocol on the same run: its definitions recorded beside the figures
    res = runner.invoke(app, ["evaluate", "mese", "--run", str(out), "--max-turns", "8", "--protocol", "paper"])
    assert res.exit_code == 0, res.output
    paper = json.loads((out / "metrics.json").read_text())
    assert paper["protocol"] == "paper" and "sentence_bleu" in paper["definitions"]
    assert paper["seeds"]["0"]["metrics"]["generated_turns"] == 4 and paper["metrics"]["PPL"]["mean"] > 1
    assert paper["metrics"]["R@10"] == doc["metrics"]["R@10"]  # the recommendation metrics do not change
    assert "under the paper protocol" in res.output
    exp = tmp_path / "t7"
    res = runner.invoke(app, ["experiment", "mese-table7-inspired", "--smoke", "--out", str(exp), f"data={inspired_build}", *TINY])
    assert res.exit_code == 0, res.output
    text = (exp / "report" / "mese_tables.md").read_text()
    assert "Reference: MESE Table 7, block INSPIRED" in text and "| paper: MESE w/o item | 4.30 | 11.90 | 26.70 |" in text
    assert "| ours: MESE w/o item |" in text and "| gap: MESE - paper MESE |" in text
    res = runner.invoke(app, ["experiment", "mese-table7-redial", "--smoke", "--out", str(exp), f"data={inspired_build}"])
    assert res.exit_code == 2 and "needs a redial build" in res.output
