"""Every paper-shaped report prints the paper's own rows (source named), ours as mean ± std over
seeds and the gap: the JDDC and MESE reports from evaluated-run documents as their evaluators write them."""

from __future__ import annotations

import pytest


def _stat(mean: float, std: float = 0.0) -> dict:
    return {"mean": mean, "std": std}


def test_jddc_tables_print_the_paper_rows_and_the_gap():
    from modeling.jddc.report import tables

    gen = {"BLEU-4": _stat(0.0821, 0.004), "ROUGE-L": _stat(0.2), "Distinct-1": _stat(0.01), "Distinct-2": _stat(0.05)}
    results = [
        {"table": "Table 5: response generation", "row": "Multimodal GPT", "metrics": gen, "trivial": gen, "seeds": [0, 1], "examples": 9},
        {
            "table": "Table 9: dialogue summarisation",
            "row": "Lead",
            "metrics": {"ROUGE-1": _stat(0.2), "ROUGE-2": _stat(0.02), "ROUGE-L": _stat(0.15)},
            "trivial": {"ROUGE-1": _stat(0.2), "ROUGE-2": _stat(0.02), "ROUGE-L": _stat(0.15)},
            "baseline": "Lead",
            "seeds": [0],
            "examples": 3,
        },
    ]
    text = tables(results)
    assert "Reference: JDDC 2.1 Table 5" in text and "| paper: Multimodal GPT | 10.21 | 22.14 | 0.250 | 3.27 |" in text
    assert "| ours: Multimodal GPT | 8.21 ± 0.40 |" in text
    assert "| gap: Multimodal GPT - paper Multimodal GPT | -2.00 |" in text
    assert "| paper: Lead | 17.39 | 1.64 | 13.98 |" in text and "| gap: Lead - paper Lead | +2.61 |" in text


def _mese_doc(variant: str, r10: float, dataset: str = "redial") -> dict:
    metrics = {"R@1": _stat(0.01), "R@10": _stat(r10, 0.02), "R@50": _stat(0.5), "recall_acc": _stat(0.7)}
    metrics.update({f"ranking_acc@{k}": _stat(0.1) for k in (1, 10, 50)} | {f"final_acc@{k}": _stat(0.07) for k in (1, 10, 50)})
    return {
        "model": "mese",
        "variant": variant,
        "dataset": dataset,
        "seeds": {"0": {}, "1": {}},
        "metrics": metrics,
        "baselines": {},
        "clustering": {},
    }


def test_mese_tables_print_the_paper_rows_and_table7_by_data_set():
    from modeling.mese.report import tables

    text = tables([_mese_doc("MESE", 0.30), _mese_doc("MESE w/o item", 0.20)])
    assert "Reference: MESE Table 2 (REDIAL)" in text and "| paper: MESE | 5.60 | 25.60 |" in text
    assert "| ours: MESE | 1.000 ± 0.000 | 30.00 ± 2.00 |" in text and "| gap: MESE - paper MESE | -4.60 | +4.40 |" in text
    assert "Reference: MESE Table 3" in text and "| paper: @10 | 33.00 | 0.778 | 25.60 |" in text
    assert "Reference: MESE Table 7, block REDIAL" in text and "| gap: MESE w/o item - paper MESE w/o item | -2.40 | +1.90 |" in text
    inspired = tables([_mese_doc("MESE", 0.30, "inspired"), _mese_doc("MESE w/o item", 0.20, "inspired")])
    assert "Reference: MESE Table 7, block INSPIRED" in inspired and "| paper: MESE w/o item | 4.30 | 11.90 | 26.70 |" in inspired
    assert "block REDIAL" not in inspired


@pytest.mark.slow
def test_jddc_experiment_through_the_cli_prints_the_paper_rows(jddc_build, tmp_path):
    from typer.testing import CliRunner

    from pipelines.cli.main import app

    res = CliRunner().invoke(app, ["experiment", "jddc-table8", "--smoke", "--out", str(tmp_path), f"data={jddc_build}", "train.epochs=1"])
    assert res.exit_code == 0, res.output
    text = (tmp_path / "report" / "tables.md").read_text()
    assert "Reference: JDDC 2.1 Table 8" in text and "| paper: Multimodal Deep Sequential | 78.12 | 57.77 |" in text
    assert "| gap: Text-only Deep Sequential - paper Text-only Deep Sequential |" in text


def _info(group: str, label: str, ndcg5: float, **kw) -> dict:
    from modeling.report.plots import TABLE_METRICS

    mean = {m: 0.5 for m in TABLE_METRICS} | {"NDCG@5": ndcg5, "R@5": ndcg5}
    base = {"group": group, "test": "b/test", "model": "semantic", "label": label, "seeds": 3, "run": "/nonexistent"}
    return base | {"mean": mean, "std": {m: 0.01 for m in TABLE_METRICS}, "state_ratio": 1.0, "alpha": 0.5, "dp_ratio": 1.0} | kw


def test_semantic_tables_5_to_8_print_the_paper_rows_matched_by_setting():
    from modeling.report.plots import paper_tables

    text = paper_tables(
        [
            _info("ratio", "20%", 0.70, state_ratio=0.2),
            _info("alpha", "alpha=0.3", 0.74, alpha=0.3),
            _info("ablation", "w/o JS", 0.75),
            _info("dp_size", "20%", 0.71, dp_ratio=0.2),
        ]
    )
    assert "Reference: SeMANTIC Table 6" in text and "| gap: 20% - paper 20% labeled ds | " in text
    assert "| paper: alpha=0.3 | 74.04 ± 1.64 |" in text and "| gap: alpha=0.3 - paper alpha=0.3 | -0.04 |" in text
    assert 'SeMANTIC Table 8, block "MMD"' in text and "| gap: w/o JS - paper w/o JS |" in text
    assert "| gap: 20% - paper SeMANTIC (D_F 5%, D_P 20%) |" in text
    ndcg5 = "| gap: 20% - paper 20% labeled ds | " + " | ".join(["-13.29", "-4.67", "-5.50"])
    assert ndcg5 in text  # P@5 50.00-63.29, R@5 70.00-74.67, NDCG@5 70.00-75.50


def test_figure4_points_are_table6s_figures_in_the_plot_units():
    from modeling.report.paper_rows import paper_points

    label, points = paper_points("ratio", "NDCG@5")
    assert "Table 6" in label and [p[0] for p in points] == [0.0, 1.0, 5.0, 10.0, 20.0, 100.0]
    assert points[-1][1:] == (75.87, 0.71) and points[0][1:] == (68.46, 1.66)
    assert paper_points("alpha", "NDCG@5") == ("", [])  # Table 5 prints R@5/10/20 only
    assert paper_points("alpha", "R@5")[1][0] == (0.1, 73.57, 1.59)
    assert paper_points("ablation", "NDCG@5") == ("", [])
