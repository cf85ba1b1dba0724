"""The papers' own figures, kept as data for the reports' reference rows: complete, parsed, and
the comparison table puts paper, ours and the gap side by side."""

from __future__ import annotations

import pytest

from modeling import papers


@pytest.mark.parametrize("paper", papers.PAPERS)
def test_every_table_parses_with_one_figure_per_metric(paper):
    ids = papers.tables(paper)
    assert ids
    for t in ids:
        ref = papers.table(paper, t)
        assert ref.source and ref.rows and all(len(v) == len(ref.metrics) for v in ref.rows.values())


def test_the_headline_figures_are_where_the_papers_print_them():
    t1 = papers.table("semantic", "table1-mmd-v3-v3").row("SeMANTIC")
    assert (t1["NDCG@5"].mean, t1["NDCG@5"].std) == (75.87, 0.71)
    assert papers.table("mese", "table2").row("MESE")["R@10"].mean == 25.6
    assert papers.table("mese", "table2").row("CR-Walker")["PPL"] is None  # a dash in the paper
    assert papers.table("jddc", "table5").row("Multimodal GPT")["BLEU"].mean == 10.21
    assert papers.table("semantic", "table1-simmc").rows.keys() >= {"MHRED", "MAGIC", "CLIP", "LARCH", "TREASURE", "SeMANTIC"}


def test_comparison_prints_paper_ours_and_gap():
    ref = papers.table("jddc", "table9")
    md = papers.comparison_markdown(ref, {"Lead (mmdial)": {"RG-1": (20.0, 1.5), "RG-2": (2.0, 0.1)}}, match={"Lead (mmdial)": "Lead"})
    assert "Reference: JDDC 2.1 Table 9" in md
    assert "| paper: Lead | 17.39 | 1.64 | 13.98 |" in md
    assert "| ours: Lead (mmdial) | 20.00 ± 1.50 | 2.00 ± 0.10 | - |" in md
    assert "| gap: Lead (mmdial) - paper Lead | +2.61 | +0.36 | - |" in md


def test_unknown_tables_are_named_errors():
    with pytest.raises(KeyError, match="table1-mmd-v3-v3"):
        papers.table("semantic", "table99")
    assert papers.parse_figure("63.87 ± 0.39") == papers.Figure(63.87, 0.39)
