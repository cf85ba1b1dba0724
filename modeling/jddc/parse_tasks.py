"""The JDDC tasks of part 2 (paper sections 5.3 and 5.4) for `mmdial train|evaluate|report`.

| task | what | metrics (Table) |
|---|---|---|
| `jddc-discourse` | Deep Sequential, `model.multimodal` true/false (discourse/run) | Link F1, Link & Relation F1 (Table 8) |
| `jddc-summary-lead` | first N characters (summary/extractive) | ROUGE-1/2/L F1 over characters (Table 9) |
| `jddc-summary-lexrank` | sumy LexRank cut to N characters | idem |
| `jddc-summary-pg` | Pointer-Generator with coverage (summary/pg) | idem |
| `jddc-summary-bertsum` | BERTSUMABS, `model.multimodal` true/false (summary/bertsum) | idem |

`evaluate_run` scores every seed folder of a run and writes `RUN/metrics.json` in the shape
`modeling.jddc.report` reads (task, table, row, per-seed metrics, their mean and std, and the
baseline scored on the same examples: "attach to the previous EDU" over the EDUs the parser
sees for discourse, Lead for summaries), so `mmdial report jddc RUN...` (modeling.jddc.report, which takes COLUMNS, ROW_ORDER and each
run's `baseline` name from here) prints Tables 8 and 9 next to part 1's.
"""

from __future__ import annotations

import json
import os

from modeling.core.runs import seed_folders, summarise_seeds, write_json

SUMMARY_METHODS = {
    "jddc-summary-lead": "lead",
    "jddc-summary-lexrank": "lexrank",
    "jddc-summary-pg": "pg",
    "jddc-summary-bertsum": "bertsum",
}
PARSE_TASKS = ("jddc-discourse", *SUMMARY_METHODS)
DISCOURSE_TABLE = "Table 8: discourse parsing"
SUMMARY_TABLE = "Table 9: dialogue summarisation"
COLUMNS = {
    DISCOURSE_TABLE: (("Link", "Link"), ("Link & Relation", "Link & Relation")),
    SUMMARY_TABLE: (("RG-1", "ROUGE-1"), ("RG-2", "ROUGE-2"), ("RG-L", "ROUGE-L")),
}
ROW_ORDER = (
    "Text-only Deep Sequential",
    "Multimodal Deep Sequential",
    "Lead",
    "LexRank",
    "Pointer-Generator",
    "Text-only BERTSUMABS",
    "Multimodal BERTSUMABS",
)


def train(kind: str, cfg: dict, log=print) -> list[str]:
    if kind == "jddc-discourse":
        from modeling.jddc.discourse import run as discourse_run

        return discourse_run.train(cfg, log)
    if kind in SUMMARY_METHODS:
        from modeling.jddc.summary import run as summary_run

        return summary_run.train(SUMMARY_METHODS[kind], cfg, log)
    raise ValueError(f"task {kind!r}: one of {', '.join(PARSE_TASKS)}")


def _discourse_one(folder: str, split: str, data: str | None, device: str) -> dict:
    from modeling.jddc.discourse.run import evaluate_seed

    r = evaluate_seed(folder, split, data, device)
    return {
        "baseline": f"Attach to the previous EDU ({'all EDUs' if r['multimodal'] else 'text EDUs only'})",
        "row": f"{'Multimodal' if r['multimodal'] else 'Text-only'} Deep Sequential",
        "multimodal": r["multimodal"],
        "examples": r["sessions"],
        "metrics": {"Link": r["model"]["link"]["f1"], "Link & Relation": r["model"]["link_relation"]["f1"]},
        "trivial": {"Link": r["previous_edu"]["link"]["f1"], "Link & Relation": r["previous_edu"]["link_relation"]["f1"]},
        "table": DISCOURSE_TABLE,
    }


def _summary_one(folder: str, split: str, data: str | None, device: str) -> dict:
    from modeling.jddc.summary.data import kept_turns, plain_text, summary_examples
    from modeling.jddc.summary.extractive import lead
    from modeling.jddc.summary.run import _load, _rouge, evaluate_seed

    r = evaluate_seed(folder, split, data, device)
    cfg, run, filt = _load(folder)
    examples = summary_examples(data or cfg["data"], split)
    leads = [lead(plain_text(kept_turns(x, run["trivial"], filt)), run["lead_chars"]) for x in examples]
    names = {"lead": "Lead", "lexrank": "LexRank", "pg": "Pointer-Generator"}
    row = names.get(r["method"]) or f"{'Multimodal' if r['multimodal'] else 'Text-only'} BERTSUMABS"
    return {
        "baseline": "Lead (same sessions)",
        "row": row,
        "multimodal": r["multimodal"],
        "examples": r["sessions"],
        "metrics": r["rouge"],
        "trivial": _rouge(leads, [x.summary for x in examples]),
        "table": SUMMARY_TABLE,
    }


def evaluate_run(run: str, split: str = "test", data: str | None = None, device: str = "cpu", log=print) -> dict:
    """Score each seed folder of `run`; writes metrics.json per seed and, for several, in `run`."""
    folders = seed_folders(run)
    per_seed = []
    for folder in folders:
        with open(os.path.join(folder, "run.json"), encoding="utf-8") as fh:
            info = json.load(fh)
        one = (_discourse_one if info["task"] == "jddc-discourse" else _summary_one)(folder, split, data, device)
        one.update(task=info["task"], seed=info["seed"], split=split)
        write_json(os.path.join(folder, "metrics.json"), one)
        log(f"{info['task']} seed {info['seed']}: " + ", ".join(f"{k} {v:.4f}" for k, v in one["metrics"].items()))
        per_seed.append(one)
    return summarise_seeds(run, folders, per_seed, split, ("task", "table", "row", "baseline", "multimodal", "examples"))


def render(result: dict) -> str:
    lines = [f"{result['task']} · {result['row']} · {result['split']} · {result['examples']} sessions · seeds {result['seeds']}"]
    for k, v in result["metrics"].items():
        t = result["trivial"].get(k)
        lines.append(f"  {k:<16} {v['mean']:.4f} ± {v['std']:.4f}   ({result['baseline']} {t['mean']:.4f})")
    return "\n".join(lines)
