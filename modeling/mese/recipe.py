"""MESE's recipe (ReDial and INSPIRED builds): train, evaluate (Tables 2, 3, 6) and report (Tables 2, 3, 5, 6,
8 over runs and ablations). The registry (`modeling.recipes`) points here."""

from __future__ import annotations

from modeling.recipes import EvalRequest


def train(kind: str, cfg: dict, log=print) -> list[str]:
    from modeling.mese.train import train as train_runs

    return train_runs(cfg, log)


def evaluate(kind: str, req: EvalRequest) -> str:
    from modeling.mese.evaluate import evaluate_run
    from modeling.mese.report import tables

    return tables([evaluate_run(req.run, req.split, req.data, req.device, req.max_turns, log=req.log, protocol=req.protocol)])


def report(runs: list[str], out: str) -> str:
    from modeling.mese.report import write_tables

    return write_tables(runs, out)
