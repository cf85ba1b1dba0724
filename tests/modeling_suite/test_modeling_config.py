from __future__ import annotations

import pytest

from modeling.config import CONFIG_DIR, ConfigError, load_config


def test_named_config_and_overrides(tmp_path):
    cfg = load_config("smoke", ["data=/x/y", "train.epochs=3", "train.lr=1e-3", "semantic.js_loss=false", f"output_dir={tmp_path}"])
    assert cfg["data"] == "/x/y"
    assert cfg["train"]["epochs"] == 3 and cfg["train"]["lr"] == pytest.approx(1e-3)
    assert cfg["semantic"]["js_loss"] is False
    assert cfg["net"]["d_model"] == 64  # from smoke
    assert cfg["semantic"]["alpha"] == 0.5  # inherited from defaults


def test_paper_hyper_parameters():
    for name in ("mmd_v3", "mmd_v2", "simmc"):
        cfg = load_config(name)
        assert cfg["train"]["lr"] == pytest.approx(5e-4) and cfg["train"]["schedule"] == "linear"
        assert cfg["train"]["batch_size"] == 64 and cfg["train"]["epochs"] == 50
        assert (cfg["net"]["layers"], cfg["net"]["heads"], cfg["net"]["ffn"], cfg["net"]["dropout"]) == (3, 8, 768, 0.1)
        assert cfg["net"]["d_model"] == 768 and cfg["semantic"]["alpha"] == 0.5
        assert (cfg["loader"]["context_turns"], cfg["loader"]["max_tokens"], cfg["loader"]["max_images"]) == (5, 30, 5)


def test_experiment_configs_resolve():
    names = sorted(p.stem for p in (CONFIG_DIR / "experiments").glob("*.yaml"))
    for prefix in ("mmd_v3_ratio_", "simmc_ratio_"):
        cfgs = [load_config(n) for n in names if n.startswith(prefix)]
        assert sorted(c["loader"]["state_ratio"] for c in cfgs) == [0.0, 0.01, 0.05, 0.1, 0.2, 1.0]
        assert all(c["semantic"]["dp_includes_df"] is False and c["experiment"]["group"] == "ratio" for c in cfgs)
    dp = [load_config(n) for n in names if n.startswith("mmd_v2_dp_")]
    assert sorted(c["loader"]["dp_ratio"] for c in dp) == [0.0, 0.1, 0.2, 0.5, 1.0]
    assert all(c["loader"]["state_ratio"] == 1.0 and c["experiment"]["group"] == "dp_size" for c in dp)
    # Table 1 trains with D_P = D_F (section 5.1)
    assert load_config("mmd_v3")["semantic"]["dp_includes_df"] is True and load_config("simmc")["semantic"]["dp_includes_df"] is True
    for dataset in ("mmd_v3", "simmc"):
        assert load_config(f"{dataset}_no_dsi")["semantic"]["dsi"] is False
        assert load_config(f"{dataset}_no_js")["semantic"]["js_loss"] is False
    alphas = sorted(load_config(n)["semantic"]["alpha"] for n in names if "alpha" in n)
    assert alphas == [0.1, 0.3, 0.5, 0.7, 0.9]
    assert load_config("mmd_v3_no_mse")["semantic"]["mse_loss"] is False
    assert load_config("mmd_v3_no_state_values")["semantic"]["use_state_values"] is False


def test_bad_overrides_fail():
    with pytest.raises(ConfigError, match="unknown key"):
        load_config("smoke", ["train.epoch=3"])
    with pytest.raises(ConfigError, match="not key=value"):
        load_config("smoke", ["train.epochs"])
    with pytest.raises(ConfigError, match="no config"):
        load_config("no_such_config")


def test_every_experiment_names_existing_configs():
    from modeling import recipes
    from modeling.experiments import EXPERIMENTS, planned_runs

    for name in EXPERIMENTS:
        for smoke in (False, True):
            try:
                plan = planned_runs(name, smoke)
            except ConfigError:
                assert smoke, name  # only --smoke may be refused (an experiment without smoke configs)
                continue
            assert len({folder for *_, folder in plan}) == len(plan), name  # one folder per run
            for kind, config, overrides, _ in plan:
                recipes.check_config(recipes.get(kind), config)
                cfg = load_config(config, overrides)
                if recipes.get(kind).family == "defaults":  # SeMANTIC and the Table 1 baselines
                    assert cfg["experiment"]["group"], (name, config)
    assert {"mese-table2", "mese-table7-inspired", "jddc-table5", "jddc-table9"} <= set(EXPERIMENTS)
