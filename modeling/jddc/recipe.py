"""The JDDC 2.1 recipes: the response / rewrite baselines (`modeling.jddc.run`, any task of
`modeling.jddc.tasks.TASKS`), discourse parsing and the summarisers (`modeling.jddc.parse_tasks`).
The registry (`modeling.recipes`) points here; one report (`mmdial report`) prints their tables."""

from __future__ import annotations

from modeling.recipes import EvalRequest


def train_generation(kind: str, cfg: dict, log=print) -> list[str]:
    from modeling.jddc.run import train

    return train(kind, cfg, log)


def evaluate_generation(kind: str, req: EvalRequest) -> str:
    from modeling.jddc.report import render_run
    from modeling.jddc.run import evaluate_run

    device = None if req.device == "auto" else req.device
    return render_run(evaluate_run(req.run, req.split or "test", req.data, device, req.max_turns, log=req.log))


def train_parse(kind: str, cfg: dict, log=print) -> list[str]:
    from modeling.jddc.parse_tasks import train

    return train(kind, cfg, log)


def evaluate_parse(kind: str, req: EvalRequest) -> str:
    from modeling.jddc.parse_tasks import evaluate_run, render

    return render(evaluate_run(req.run, req.split or "test", req.data, req.device, log=req.log))


def report(runs: list[str], out: str) -> str:
    from modeling.jddc.report import write_tables

    return write_tables(runs, out)
