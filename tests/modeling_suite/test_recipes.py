"""The recipe registry: one entry per trainable kind, the CLI reads only it, a config of another
family is refused in one line, and training progress stays out of redirected logs."""

from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from modeling import recipes
from pipelines.cli.main import app

runner = CliRunner()
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.slow
def test_every_kind_has_a_recipe_with_its_functions_and_configs():
    assert len(recipes.RECIPES) == 17  # 12 + the five Table 1 baselines (mhred, umd, magic, larch, treasure)
    for r in recipes.RECIPES.values():
        module = importlib.import_module(r.module)
        for fn in (r.train_fn, r.evaluate_fn, r.report_fn):
            assert callable(getattr(module, fn)), (r.name, fn)
        configs = recipes.configs_of(r.family)
        assert r.family in configs and all(recipes.config_family(c) == r.family for c in configs)


def test_cli_names_no_kind():
    """No string dispatch: modeling/cli.py holds no kind's name (nor a prefix of one)."""
    with open(os.path.join(ROOT, "modeling", "cli.py"), encoding="utf-8") as fh:
        tree = ast.parse(fh.read())
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    for kind in recipes.RECIPES:
        assert not any(s == kind or (len(s) > 3 and kind.startswith(s)) for s in strings), kind


@pytest.mark.parametrize(
    "kind,config,right",
    [("jddc-response", "smoke", "jddc_smoke"), ("semantic", "mese_smoke", "smoke"), ("mese", "jddc_summary_smoke", "mese_smoke")],
)
def test_a_config_of_another_family_is_refused_in_one_line(kind, config, right, tmp_path):
    res = runner.invoke(app, ["train", kind, "--config", config, f"output_dir={tmp_path}"])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), res.output
    assert kind in lines[0] and right in lines[0] and "Traceback" not in res.output
    assert not os.listdir(tmp_path)  # refused before anything ran


def test_a_yaml_written_from_scratch_is_placed_by_its_sections(tmp_path):
    from modeling.config import find_config

    own = tmp_path / "mine.yaml"
    own.write_text(find_config("jddc_summary").read_text(encoding="utf-8"), encoding="utf-8")
    assert recipes.config_family(str(own)) == "jddc_summary"
    assert recipes.config_family(find_config("jddc_learning").as_posix()) == "jddc"


def test_unknown_kind_is_one_line():
    res = runner.invoke(app, ["train", "jddc-summary-nope", "--config", "jddc_summary_smoke"])
    assert res.exit_code == 2 and "jddc-summary-lexrank" in res.output and len(res.output.strip().splitlines()) == 1


def test_kind_of_a_run_is_read_from_the_run(tmp_path):
    seed = tmp_path / "run" / "seed-0"
    seed.mkdir(parents=True)
    (seed / "run.json").write_text(json.dumps({"task": "jddc-discourse", "seed": 0}))
    assert recipes.kind_of_run(str(tmp_path / "run")) == "jddc-discourse"
    (tmp_path / "run" / "metrics.json").write_text(json.dumps({"model": "mese"}))
    assert recipes.kind_of_run(str(tmp_path / "run")) == "mese"
    with pytest.raises(FileNotFoundError, match="metrics.json"):
        recipes.kind_of_run(str(tmp_path))


def test_progress_option_is_named_in_help():
    res = runner.invoke(app, ["train", "--help"])
    assert res.exit_code == 0 and "--no-progress" in res.output


@pytest.mark.slow
def test_a_redirected_training_log_holds_few_carriage_returns(mmd_build, tmp_path):
    """Progress bars go to a terminal only: 40 steps into a file leave fewer than 20 CRs."""
    log = tmp_path / "log"
    with open(log, "wb") as fh:
        done = subprocess.run(
            [sys.executable, "-m", "pipelines.cli.main", "train", "text", "--config", "smoke", f"data={mmd_build}"]
            + [f"output_dir={tmp_path / 'run'}", "train.max_steps=40", "train.log_every=1", "threads=1"],
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, PYTHONPATH=ROOT),
        )
    text = log.read_bytes()
    assert done.returncode == 0, text[-2000:]
    assert text.count(b"\r") < 20
    assert b"epoch" in text  # the per-epoch lines are still there
    steps = [json.loads(x) for x in open(tmp_path / "run" / "seed-0" / "metrics.jsonl") if '"loss"' in x]
    assert len(steps) >= 40
