"""A seed fixes a run: every kind of the recipe registry, trained and evaluated twice in two
processes with different PYTHONHASHSEED (the per-process string-hash randomisation), gives the
same metrics.json and the same training log (timings aside); a run killed with SIGKILL inside an
epoch and started again ends exactly as the uninterrupted one; the training batches do not
depend on the number of data-loading workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from modeling.recipes import RECIPES

pytestmark = pytest.mark.slow  # two tiny trainings per kind, each in its own process

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# one tiny setting per config family: (config, build fixture, overrides, evaluate options)
TINY = {
    "defaults": ("smoke", "mmd_build", ["train.max_steps=8", "train.log_every=1", "threads=1"], ["--max-turns", "40"]),
    "jddc": (
        "jddc_smoke",
        "jddc_build",
        ["train.max_steps=4", "train.log_every=1", "loader.max_train_examples=128", "decode.max_new_tokens=8"],
        ["--max-turns", "8"],
    ),
    "jddc_discourse": ("jddc_discourse_smoke", "jddc_build", ["train.epochs=1", "train.log_every=1"], []),
    "jddc_summary": ("jddc_summary_smoke", "jddc_build", ["train.epochs=1", "train.log_every=1"], []),
    "mese": ("mese_smoke", "redial_build", ["train.epochs=1", "train.log_every=1", "eval.generate_turns=3", "eval.max_new_tokens=6"], []),
}
TIMING = (
    "epoch_s",
    "samples_per_s",
    "train_samples_per_s",
    "train_examples_per_s",
    "seconds",
    "turns_per_s",
    "product_encode_s",
    "score_s",
)

DRIVER = """
import sys
from pipelines.cli.main import app
train, evaluate = sys.argv[1].split("\\x1f"), sys.argv[2].split("\\x1f")
for args in (train, evaluate):
    try:
        app(args, standalone_mode=False)
    except SystemExit as exc:
        if exc.code:
            raise
"""


def _timeless(x):
    if isinstance(x, dict):
        return {k: _timeless(v) for k, v in x.items() if k not in TIMING}
    if isinstance(x, list):
        return [_timeless(v) for v in x]
    return x


def _train_and_evaluate(kind: str, build: str, out: str, hash_seed: str, extra: tuple = (), fault: str | None = None) -> tuple[dict, list]:
    config, _, overrides, ev = TINY[RECIPES[kind].family]
    train = ["train", kind, "--config", config, f"data={build}", f"output_dir={out}", *overrides, *extra]
    evaluate = ["evaluate", kind, "--run", out, *ev]
    env = dict(os.environ, PYTHONHASHSEED=hash_seed, PYTHONPATH=ROOT)
    if fault:
        env["MMDIAL_FAULT"] = fault
        done = subprocess.run(
            [sys.executable, "-c", DRIVER, "\x1f".join(train), "\x1f".join(evaluate)], env=env, capture_output=True, text=True
        )
        assert done.returncode == -9, done.stderr[-2000:]  # killed at the fault point, like kill -9
        env.pop("MMDIAL_FAULT")
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, "\x1f".join(train), "\x1f".join(evaluate)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert not fault or "resuming" in done.stderr
    seed_dir = os.path.join(out, "seed-0")
    metrics_path = (
        os.path.join(out, "metrics.json") if os.path.exists(os.path.join(out, "metrics.json")) else os.path.join(seed_dir, "metrics.json")
    )
    with open(metrics_path, encoding="utf-8") as fh:
        metrics = json.load(fh)
    for key in ("data", "run"):
        metrics.pop(key, None)
    log_path = os.path.join(seed_dir, "metrics.jsonl")
    log = [json.loads(line) for line in open(log_path, encoding="utf-8")] if os.path.exists(log_path) else []
    return _timeless(metrics), _timeless(log)


@pytest.mark.parametrize("kind", list(RECIPES))
def test_same_seed_same_metrics_across_hash_seeds(kind, request, tmp_path):
    build = request.getfixturevalue(TINY[RECIPES[kind].family][1])
    first = _train_and_evaluate(kind, build, str(tmp_path / "a"), "1")
    second = _train_and_evaluate(kind, build, str(tmp_path / "b"), "2")
    assert first[0] == second[0], f"{kind}: metrics.json differs between hash seeds"
    assert first[1] == second[1], f"{kind}: training log differs between hash seeds"


@pytest.mark.parametrize("kind", [k for k, r in RECIPES.items() if r.trained])
def test_killed_inside_an_epoch_and_resumed_ends_as_uninterrupted(kind, request, tmp_path):
    """Killed (SIGKILL) at the first checkpoint, two steps into the first epoch; the resumed run
    restores the data position and the random states and ends with the same log and metrics."""
    build = request.getfixturevalue(TINY[RECIPES[kind].family][1])
    whole = _train_and_evaluate(kind, build, str(tmp_path / "whole"), "0")
    resumed = _train_and_evaluate(kind, build, str(tmp_path / "resumed"), "0", ("train.checkpoint_steps=2",), fault="checkpoint_saved")
    assert whole[1] and whole == resumed


def test_batches_do_not_depend_on_loader_workers(mmd_build):
    import hashlib

    import torch.utils.data as tud

    from modeling.config import load_config
    from modeling.runtime import Runtime

    cfg = load_config("smoke", [f"data={mmd_build}", "loader.read_rows=32", "loader.shuffle_buffer=64"])
    rt = Runtime.load(cfg, cfg["data"])
    states = rt.states("train")
    seen = {}
    for workers in (0, 2):
        stream = rt.train_stream(0, 0, 1, states)
        stream.set_epoch(1, 7, skip=1)
        seen[workers] = [
            hashlib.sha256(b"".join(v.numpy().tobytes() for v in b.values())).hexdigest()
            for b in tud.DataLoader(stream, batch_size=None, num_workers=workers)
        ]
    assert len(seen[0]) == 6 and seen[0] == seen[2]
