"""A small learning check (the full one, over 3 seeds, is benchmarks/bench_mese.py): on the
generator's ReDial, where the recommended movies share the liked movie's genre, MESE trained for a
few epochs ranks the truth far above random and above popularity."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_mese_learns_genre_recommendation(redial_build, tmp_path):
    from modeling.config import load_config
    from modeling.mese.evaluate import evaluate_run
    from modeling.mese.train import train

    cfg = load_config("mese_smoke", [f"data={redial_build}", f"output_dir={tmp_path}", "eval.generate_turns=4", "eval.cluster_repeats=3"])
    train(cfg, log=lambda m: None)
    res = evaluate_run(str(tmp_path), log=lambda m: None)
    m, base = res["metrics"], res["baselines"]
    # 80 movies and about 50 test instances: one instance is 2 points of R@10, and CPU training is
    # not bit-identical across runs (R@10 0.18-0.22 seen against 0.125 random), so the wide-margin
    # claim is left to the 3-seed benchmark; here: above both baselines, and well above at R@50.
    assert m["R@10"]["mean"] > max(base["random"]["R@10"]["mean"], base["popularity"]["R@10"]["mean"])
    assert m["R@50"]["mean"] >= 1.2 * max(base["random"]["R@50"]["mean"], base["popularity"]["R@50"]["mean"])
    assert m["recall_acc"]["mean"] > 0.5
