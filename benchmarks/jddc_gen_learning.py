"""Learning check of the JDDC baselines, part 1 (issue 12): do the images matter?

Generates two synthetic JDDC corpora with every session annotated (one to train on, one held out
with another generator seed: the annotated test split of a small build has only 5% of its sessions,
too few negatives for the rewritable F1), builds them, then trains and evaluates all six baselines through the CLI (`mmdial train jddc-... --config jddc_learning`, `mmdial
evaluate`) over the given seeds, prints the paper-shaped tables (`mmdial report jddc`) and checks,
for every table and metric family (BLEU, ROUGE, Distinct; F1), that the multimodal model's mean
beats the text-only model's and the text-only model's beats the trivial baseline (the most
frequent training response / rewrite, the majority label).

    python benchmarks/jddc_gen_learning.py --out /tmp/jddc-learning --sessions 240 --seeds 0 1 2

Writes OUT/tables.md and OUT/learning.json (never a tracked file).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASELINES = {  # name -> (task, overrides)
    "response-retrieval-text": ("jddc-response", ["response.kind=retrieval", "multimodal=false"]),
    "response-retrieval-mm": ("jddc-response", ["response.kind=retrieval", "multimodal=true"]),
    "response-gpt-text": ("jddc-response", ["multimodal=false"]),
    "response-gpt-mm": ("jddc-response", ["multimodal=true"]),
    "rewrite-cls-text": ("jddc-rewrite-cls", ["multimodal=false"]),
    "rewrite-cls-mm": ("jddc-rewrite-cls", ["multimodal=true"]),
    "rewrite-gpt-text": ("jddc-rewrite", ["multimodal=false"]),
    "rewrite-gpt-mm": ("jddc-rewrite", ["multimodal=true"]),
}
PAIRS = {  # (text-only run, multimodal run) -> metric families checked
    ("response-retrieval-text", "response-retrieval-mm"): {"BLEU": "BLEU-4", "ROUGE": "ROUGE-L", "Distinct": "Distinct-2"},
    ("response-gpt-text", "response-gpt-mm"): {"BLEU": "BLEU-4", "ROUGE": "ROUGE-L", "Distinct": "Distinct-2"},
    ("rewrite-gpt-text", "rewrite-gpt-mm"): {"BLEU": "BLEU-4", "ROUGE": "ROUGE-L", "Distinct": "Distinct-2"},
    ("rewrite-cls-text", "rewrite-cls-mm"): {"F1": "F1"},
}


def mmdial(*args: str, log: str | None = None) -> None:
    env = {**os.environ, "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "pipelines.cli.main", *args]
    with open(log or os.devnull, "a", encoding="utf-8") as fh:
        proc = subprocess.run(cmd, env=env, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT, check=False)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}); see {log}")


def build(out: str, sessions: int, seed: int, name: str = "build") -> str:
    data = os.path.join(out, name)
    if not os.path.exists(os.path.join(data, "manifest.json")):
        raw = os.path.join(out, f"raw-{name}")
        mmdial("generate", "jddc", "--out", raw, "--sessions", str(sessions), "--annotated", str(sessions), "--seed", str(seed))
        mmdial("build", "jddc", "--raw", raw, "--out", data, "--workers", "1")
    return data


def run_baseline(name: str, data: str, held_out: str, out: str, seeds: list[int], extra: list[str], max_eval: int) -> dict:
    task, overrides = BASELINES[name]
    run = os.path.join(out, "runs", name)
    log = os.path.join(out, "logs", f"{name}.log")
    t0 = time.perf_counter()
    seed_list = "[" + ",".join(map(str, seeds)) + "]"
    mmdial(
        "train", task, "--config", "jddc_learning", f"data={data}", f"output_dir={run}", f"seeds={seed_list}", *overrides, *extra, log=log
    )
    mmdial("evaluate", task, "--run", run, "--data", held_out, "--split", "train", "--max-turns", str(max_eval), log=log)
    with open(os.path.join(run, "metrics.json"), encoding="utf-8") as fh:
        doc = json.load(fh)
    doc["wall_s"] = round(time.perf_counter() - t0, 1)
    return doc


def check(results: dict) -> list[dict]:
    rows = []
    for (text, mm), families in PAIRS.items():
        t, m = results[text], results[mm]
        for family, key in families.items():
            triv = t["trivial"][key]["mean"]
            row = {
                "pair": f"{text} / {mm}",
                "family": family,
                "metric": key,
                "trivial": triv,
                "text": t["metrics"][key]["mean"],
                "text_std": t["metrics"][key]["std"],
                "multimodal": m["metrics"][key]["mean"],
                "multimodal_std": m["metrics"][key]["std"],
            }
            row["holds"] = row["multimodal"] > row["text"] > row["trivial"]
            rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--sessions", type=int, default=240)
    ap.add_argument("--data-seed", type=int, default=3)
    ap.add_argument("--eval-sessions", type=int, default=100, help="sessions of the held-out build scored")
    ap.add_argument("--eval-seed", type=int, default=4)
    ap.add_argument("--max-eval", type=int, default=300, help="examples scored per run")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--jobs", type=int, default=2, help="baselines trained at once")
    ap.add_argument("--only", nargs="*", default=None, help="a subset of the baselines")
    ap.add_argument("overrides", nargs="*", help="extra key=value config overrides for every run")
    args = ap.parse_args()
    os.makedirs(os.path.join(args.out, "logs"), exist_ok=True)
    t0 = time.perf_counter()
    data = build(args.out, args.sessions, args.data_seed)
    held_out = build(args.out, args.eval_sessions, args.eval_seed, "held-out")
    names = args.only or list(BASELINES)
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = {n: pool.submit(run_baseline, n, data, held_out, args.out, args.seeds, args.overrides, args.max_eval) for n in names}
        results = {n: f.result() for n, f in futures.items()}
    runs = [os.path.join(args.out, "runs", n) for n in names]
    mmdial("report", "jddc", *runs, "--out", args.out, log=os.path.join(args.out, "logs", "report.log"))
    with open(os.path.join(args.out, "tables.md"), encoding="utf-8") as fh:
        print(fh.read())
    rows = check(results) if not args.only else []
    for r in rows:
        print(
            f"{r['pair']:<48} {r['family']:<8} trivial {100 * r['trivial']:6.2f}  text {100 * r['text']:6.2f} ± {100 * r['text_std']:.2f}"
            f"  multimodal {100 * r['multimodal']:6.2f} ± {100 * r['multimodal_std']:.2f}  {'holds' if r['holds'] else 'FAILS'}"
        )
    doc = {
        "sessions": args.sessions,
        "seeds": args.seeds,
        "overrides": args.overrides,
        "wall_s": round(time.perf_counter() - t0, 1),
        "per_run_wall_s": {n: r["wall_s"] for n, r in results.items()},
        "check": rows,
        "all_hold": all(r["holds"] for r in rows),
        "results": results,
    }
    with open(os.path.join(args.out, "learning.json"), "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2, ensure_ascii=False)
    print(f"learning check: {'holds' if doc['all_hold'] else 'FAILS'} ({doc['wall_s']} s)")


if __name__ == "__main__":
    main()
