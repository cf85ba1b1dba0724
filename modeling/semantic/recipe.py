"""SeMANTIC's recipe and its baselines (CLIP-style, text-only and the Table 1 baselines of
modeling/baselines/: MHRED, UMD, MAGIC, LARCH, TREASURE): train, evaluate and report on an MMD or
SIMMC build, all through one data pipeline, loop and evaluator. The registry (`modeling.recipes`) points here; the CLI never imports it."""

from __future__ import annotations

from modeling.recipes import EvalRequest


def train(kind: str, cfg: dict, log=print) -> list[str]:
    from modeling.train.loop import train as train_runs

    return train_runs(kind, cfg, log)


def evaluate(kind: str, req: EvalRequest) -> str:
    import io

    from rich.console import Console

    from modeling.train.evaluate import evaluate_run, render_table

    result = evaluate_run(req.run, req.split, req.data, req.device, kind, req.max_turns, req.eval_mode)
    buf = io.StringIO()
    render_table(result, Console(file=buf, width=160))
    return buf.getvalue().rstrip("\n")


def report(runs: list[str], out: str) -> str:
    from modeling.report.plots import make_report

    return "\n".join(make_report(runs, out))
