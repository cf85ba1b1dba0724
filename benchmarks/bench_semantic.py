"""SeMANTIC learning check over seeds, the ablations and the teacher choice (run by hand; CPU).

    python -m benchmarks.bench_semantic [--dialogs 500] [--epochs 6] [--seeds 0 1 2 3 4]
        [--jobs 2] [--parts learning ablation teacher] [--perf] [--out DIR] [--reuse]

Data: synthetic MMD from the pipeline's generator (products whose type and colour decide
relevance, states for every dialog, 20 negatives per recommendation turn), built by the real
Beam pipeline. Every model uses the `smoke` architecture (64 wide, one layer; image features from
the packaged pretrained EfficientNet-lite0 at 64 px) and the same epochs; every seed varies
initialisation, data order and dropout only (D_F is chosen by a hash of the dialog id).

Parts (each model trained once per seed; runs go to OUT/runs/<name>/seed-<s>/):
- learning: SeMANTIC with 100% and 20% of the dialogs' states (D_F), text-only, CLIP-style.
  Pass: SeMANTIC-20% beats text-only and CLIP-style on NDCG@5 in every seed, and its mean
  NDCG@5 is at least 95% of SeMANTIC-100%'s.
- ablation (at 20% of states, the low-resource setting): w/o JS, w/o co-sim, w/o MSE, w/o DSI,
  each compared with SeMANTIC-20% seed by seed (paired differences).
- teacher: SeMANTIC-20% with a separate teacher recommender (`semantic.separate_teacher=true`)
  against the shared default, seed by seed.
- --perf: throughput ratios (training samples/s against text-only of the same run; evaluation
  turns/s with 1,000 candidates per turn).

Jobs run in `--jobs` processes of one torch thread each. Results: OUT/bench_semantic.json and
benchmarks/results/bench_semantic.json; `mmdial report` tables of the runs in OUT/report/.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor

PARTS = {
    "learning": {
        "semantic_100": ("semantic", ["loader.state_ratio=1.0"], "main", "SeMANTIC (100% states)"),
        "semantic_20": ("semantic", ["loader.state_ratio=0.2"], "main", "SeMANTIC (20% states)"),
        "text": ("text", [], "main", "text-only"),
        "clip": ("clip", [], "main", "CLIP-style"),
    },
    "ablation": {
        "no_js": ("semantic", ["loader.state_ratio=0.2", "semantic.js_loss=false"], "ablation", "w/o JS"),
        "no_cosim": ("semantic", ["loader.state_ratio=0.2", "semantic.cosim_loss=false"], "ablation", "w/o co_sim"),
        "no_mse": ("semantic", ["loader.state_ratio=0.2", "semantic.mse_loss=false"], "ablation", "w/o MSE"),
        "no_dsi": ("semantic", ["loader.state_ratio=0.2", "semantic.dsi=false"], "ablation", "w/o DSI"),
    },
    "teacher": {
        "separate_100": ("semantic", ["loader.state_ratio=1.0", "semantic.separate_teacher=true"], "teacher", "separate teacher (100%)"),
        "separate_20": ("semantic", ["loader.state_ratio=0.2", "semantic.separate_teacher=true"], "teacher", "separate teacher (20%)"),
    },
}


def build(raw: str, out: str, **gen) -> str:
    from pipelines.core.engine import BuildOptions, run_build
    from pipelines.mmd.builder import MMDBuilder
    from pipelines.mmd.generator import GeneratorConfig, generate

    if os.path.exists(os.path.join(out, "manifest.json")):
        return out
    generate(GeneratorConfig(out=raw, **gen))
    states = os.path.join(raw, "states.jsonl")
    run_build(
        MMDBuilder(raw=raw, states_path=states if os.path.exists(states) else None), BuildOptions(out=out, progress=False), command="bench"
    )
    return out


def train_job(job: dict) -> dict:
    """One (model, seed) run; in a worker process."""
    from modeling.config import load_config
    from modeling.train.evaluate import evaluate_run
    from modeling.train.loop import train

    folder = os.path.join(job["out"], f"seed-{job['seed']}")
    done = os.path.join(folder, "metrics.json")
    if not (job["reuse"] and os.path.exists(done)):
        shutil.rmtree(folder, ignore_errors=True)
        group, label = job["group"], job["label"]
        cfg = load_config(
            "smoke",
            [
                f"data={job['data']}",
                f"output_dir={job['out']}",
                f"seeds=[{job['seed']}]",
                "train.progress=false",
                f"threads={job['threads']}",
                f"train.epochs={job['epochs']}",
                f"experiment.group={group}",
                f"experiment.label={json.dumps(label)}",
                *job["overrides"],
            ],
        )
        t0 = time.perf_counter()
        train(job["kind"], cfg, log=lambda m: None)
        train_s = time.perf_counter() - t0
        res = evaluate_run(folder, "test")
        res["train_s"] = round(train_s, 1)
        with open(done, "w", encoding="utf-8") as fh:
            json.dump(res, fh, indent=2, sort_keys=True)
    with open(done, encoding="utf-8") as fh:
        res = json.load(fh)
    logs = [json.loads(x) for x in open(os.path.join(folder, "metrics.jsonl"), encoding="utf-8")]
    epochs = [x for x in logs if "train_samples_per_s" in x]
    steps = [x for x in logs if "loss" in x]
    last = [x for x in steps if x["epoch"] == epochs[-1]["epoch"]] or steps
    loss_terms = {k: sum(x[k] for x in last) / len(last) for k in last[0] if k.startswith(("student_", "teacher_")) or k == "mse"}
    return {
        "name": job["name"],
        "seed": job["seed"],
        "metrics": res["mean"],
        "random": res["random"],
        "turns": res["turns"],
        "train_s": res.get("train_s"),
        "train_samples_per_s": sum(e["train_samples_per_s"] for e in epochs[1:]) / max(len(epochs) - 1, 1),
        "last_epoch_losses": loss_terms,
    }


def combine_seeds(run: str, wanted: list[int]) -> None:
    """RUN/metrics.json (what `mmdial evaluate --run RUN` writes) from the per-seed evaluations the
    jobs wrote, instead of scoring every seed again."""
    from modeling.train.evaluate import mean_std as ms

    parts = [
        json.load(open(os.path.join(run, d, "metrics.json"), encoding="utf-8")) for d in sorted(os.listdir(run)) if d.startswith("seed-")
    ]
    parts = [p for p in parts if p.get("seeds")]
    seeds = {k: v for p in parts for k, v in p["seeds"].items()}
    doc = {**parts[0], "seeds": seeds, "details": {k: v for p in parts for k, v in p["details"].items()}}
    doc["mean"], doc["std"] = {}, {}
    for name in parts[0]["mean"]:
        doc["mean"][name], doc["std"][name] = ms([m[name] for m in seeds.values()])
    doc.pop("train_s", None)
    with open(os.path.join(run, "metrics.json"), "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2, sort_keys=True)


def mean_std(xs: list[float]) -> tuple[float, float]:
    m = sum(xs) / len(xs)
    return m, (math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0)


def paired(a: dict[int, float], b: dict[int, float]) -> dict:
    """Per-seed differences a - b (NDCG@5 points), their mean, std and how many are > 0."""
    seeds = sorted(set(a) & set(b))
    d = [100 * (a[s] - b[s]) for s in seeds]
    m, sd = mean_std(d)
    return {
        "per_seed": {str(s): round(x, 2) for s, x in zip(seeds, d, strict=True)},
        "mean": round(m, 2),
        "std": round(sd, 2),
        "positive": sum(x > 0 for x in d),
        "seeds": len(d),
    }


def perf(data: str, out: str, runs: dict, seed: int) -> dict:
    from modeling.train.evaluate import evaluate_run

    big = build(
        os.path.join(out, "raw1000"),
        os.path.join(out, "build1000"),
        dialogs=150,
        products=1100,
        seed=8,
        states_fraction=0.0,
        negatives=1000,
        image_size=64,
    )
    res = {}
    for name in ("semantic_100", "text"):
        r = evaluate_run(os.path.join(out, "runs", name, f"seed-{seed}"), "train", data=big)
        d = r["details"][str(seed)]
        res[name] = {"turns_per_s": round(d["turns_per_s"], 1), "candidates_per_turn": round(d["candidates"] / max(d["turns"], 1), 1)}
    res["semantic_vs_text_eval"] = round(res["semantic_100"]["turns_per_s"] / res["text"]["turns_per_s"], 3)
    return res


LABELS = {name: spec[3] for part in PARTS.values() for name, spec in part.items()}


def markdown(doc: dict) -> str:
    """The tables docs/benchmarks.md quotes, from the results document."""
    models, seeds = doc["models"], doc["setup"]["seeds"]
    cols = ("P@5", "R@5", "NDCG@5", "NDCG@10", "NDCG@20")
    out = [f"Command: `{doc['command']}` ({doc['turns']} test turns; wall {doc['wall_s']:.0f} s)", ""]
    out.append("| model | " + " | ".join(cols) + " | NDCG@5 per seed (" + ", ".join(map(str, seeds)) + ") |")
    out.append("|---|" + "---:|" * len(cols) + "---|")
    out.append("| random ranking (exact expectation) | " + " | ".join(f"{doc['random'][c]:.2f}" for c in cols) + " | |")
    for name, m in models.items():
        cells = " | ".join(f"{m['metrics'][c]['mean']:.2f} ± {m['metrics'][c]['std']:.2f}" for c in cols)
        per = ", ".join(f"{m['ndcg5_per_seed'][str(s)]:.2f}" for s in seeds if str(s) in m["ndcg5_per_seed"])
        out.append(f"| {LABELS.get(name, name)} | {cells} | {per} |")
    out += ["", "| paired NDCG@5 difference (points) | per seed | mean ± std | seeds > 0 |", "|---|---|---:|---:|"]
    for name, c in doc["paired_ndcg5_differences"].items():
        per = ", ".join(f"{v:+.2f}" for v in c["per_seed"].values())
        out.append(f"| {name.replace('_minus_', ' − ')} | {per} | {c['mean']:+.2f} ± {c['std']:.2f} | {c['positive']}/{c['seeds']} |")
    if doc["check"]:
        ch = doc["check"]
        out += [
            "",
            f"SeMANTIC-20% beats text-only in every seed: {ch['semantic_20_beats_text_every_seed']}; beats CLIP-style in every seed: "
            f"{ch['semantic_20_beats_clip_every_seed']}; 20%/100% NDCG@5 on the means: {100 * ch['ratio_20_over_100_on_means']:.1f}% "
            f"(>= 95%: {ch['ratio_20_at_least_95pct']}); per seed: "
            + ", ".join(f"{100 * v:.1f}%" for v in ch["ratio_20_over_100_per_seed"].values()),
        ]
    losses = {n: m["last_epoch_losses"] for n, m in models.items() if m["last_epoch_losses"]}
    if losses:
        keys = sorted({k for v in losses.values() for k in v})
        out += [
            "",
            "Loss terms in the last epoch (mean over steps and seeds):",
            "",
            "| run | " + " | ".join(keys) + " |",
            "|---|" + "---:|" * len(keys),
        ]
        for n, v in losses.items():
            out.append(f"| {LABELS.get(n, n)} | " + " | ".join(f"{v.get(k, 0.0):.4g}" for k in keys) + " |")
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dialogs", type=int, default=500)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--ablation-seeds", type=int, nargs="+", default=None, help="seeds of the ablation part (default: --seeds)")
    ap.add_argument("--teacher-seeds", type=int, nargs="+", default=None, help="seeds of the teacher part (default: --seeds)")
    ap.add_argument("--parts", nargs="+", default=list(PARTS), choices=list(PARTS))
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (one torch thread each)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--perf", action="store_true", help="also measure evaluation at 1,000 candidates per turn")
    ap.add_argument("--out", default="/tmp/bench_semantic")
    ap.add_argument(
        "--no-reference", action="store_true", help="ablation/teacher parts without training SeMANTIC-20%% (another invocation does)"
    )
    ap.add_argument("--reuse", action="store_true", help="keep finished (model, seed) runs of an earlier invocation (same --out)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    t_start = time.perf_counter()
    data = build(
        os.path.join(args.out, "raw"),
        os.path.join(args.out, "build"),
        dialogs=args.dialogs,
        products=400,
        seed=7,
        states_fraction=1.0,
        negatives=20,
        image_size=64,
    )
    from modeling.config import load_config
    from modeling.runtime import Runtime

    Runtime.load(load_config("smoke", [f"data={data}"]), data)  # image features once, before the workers start
    plan = {name: spec for part in args.parts for name, spec in PARTS[part].items()}
    if ("ablation" in args.parts or "teacher" in args.parts) and not args.no_reference:
        plan.setdefault("semantic_20", PARTS["learning"]["semantic_20"])  # the reference of the paired differences
    part_of = {name: part for part in PARTS for name in PARTS[part]}
    chosen = {"ablation": args.ablation_seeds or args.seeds, "teacher": args.teacher_seeds or args.seeds, "learning": args.seeds}
    part_seeds = {name: chosen[part_of[name]] for name in plan}
    if "semantic_20" in plan:  # the reference of every paired difference
        part_seeds["semantic_20"] = sorted(
            {*args.seeds, *(args.ablation_seeds or []), *(args.teacher_seeds or [])} if args.parts != ["learning"] else args.seeds
        )
    jobs = [
        {
            "name": name,
            "kind": kind,
            "overrides": overrides,
            "group": group,
            "label": label,
            "seed": seed,
            "data": data,
            "out": os.path.join(args.out, "runs", name),
            "epochs": args.epochs,
            "threads": args.threads,
            "reuse": args.reuse,
        }
        for seed in sorted(set(args.seeds) | set(args.ablation_seeds or []) | set(args.teacher_seeds or []))
        for name, (kind, overrides, group, label) in plan.items()
        if seed in part_seeds[name]
    ]
    results: dict[str, dict[int, dict]] = {}
    import multiprocessing

    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        for r in pool.map(train_job, jobs):
            results.setdefault(r["name"], {})[r["seed"]] = r
            print(f"{r['name']} seed {r['seed']}: NDCG@5 {100 * r['metrics']['NDCG@5']:.2f} ({r['train_s']} s)", flush=True)
    nd = {name: {s: r["metrics"]["NDCG@5"] for s, r in by_seed.items()} for name, by_seed in results.items()}
    summary = {}
    for name, by_seed in results.items():
        metrics = {}
        first = min(by_seed)
        for m in by_seed[first]["metrics"]:
            mu, sd = mean_std([r["metrics"][m] for r in by_seed.values()])
            metrics[m] = {"mean": round(100 * mu, 2), "std": round(100 * sd, 2)}
        summary[name] = {
            "metrics": metrics,
            "ndcg5_per_seed": {str(s): round(100 * v, 2) for s, v in nd[name].items()},
            "train_samples_per_s": round(mean_std([r["train_samples_per_s"] for r in by_seed.values()])[0], 1),
            "last_epoch_losses": {
                k: round(mean_std([r["last_epoch_losses"].get(k, 0.0) for r in by_seed.values()])[0], 6)
                for k in by_seed[first]["last_epoch_losses"]
            },
        }
    comparisons, check = {}, {}
    if "learning" in args.parts:
        comparisons["semantic_20_minus_text"] = paired(nd["semantic_20"], nd["text"])
        comparisons["semantic_20_minus_clip"] = paired(nd["semantic_20"], nd["clip"])
        comparisons["semantic_100_minus_semantic_20"] = paired(nd["semantic_100"], nd["semantic_20"])
        ratio = mean_std([nd["semantic_20"][x] for x in args.seeds])[0] / mean_std([nd["semantic_100"][x] for x in args.seeds])[0]
        check = {
            "semantic_20_beats_text_every_seed": comparisons["semantic_20_minus_text"]["positive"] == len(args.seeds),
            "semantic_20_beats_clip_every_seed": comparisons["semantic_20_minus_clip"]["positive"] == len(args.seeds),
            "ratio_20_over_100_on_means": round(ratio, 4),
            "ratio_20_at_least_95pct": ratio >= 0.95,
            "ratio_20_over_100_per_seed": {str(s): round(nd["semantic_20"][s] / nd["semantic_100"][s], 4) for s in args.seeds},
        }
    for name in ("no_js", "no_cosim", "no_mse", "no_dsi", "separate_20"):
        if name in nd and "semantic_20" in nd:
            comparisons[f"{name}_minus_semantic_20"] = paired(nd[name], nd["semantic_20"])
    doc = {
        "benchmark": "bench_semantic",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "command": "python -m benchmarks.bench_semantic "
        + f"--dialogs {args.dialogs} --epochs {args.epochs} --seeds {' '.join(map(str, args.seeds))} --jobs {args.jobs} --parts {' '.join(args.parts)}"
        + (f" --ablation-seeds {' '.join(map(str, args.ablation_seeds))}" if args.ablation_seeds else "")
        + (f" --teacher-seeds {' '.join(map(str, args.teacher_seeds))}" if args.teacher_seeds else "")
        + (" --perf" if args.perf else ""),
        "machine": {"cpu_count": os.cpu_count(), "torch_threads": args.threads, "jobs": args.jobs, "load_average_at_end": os.getloadavg()},
        "setup": {
            "dialogs": args.dialogs,
            "epochs": args.epochs,
            "seeds": args.seeds,
            "ablation_seeds": chosen["ablation"],
            "teacher_seeds": chosen["teacher"],
            "config": "smoke",
            "negatives_per_turn": 20,
        },
        "turns": next(iter(next(iter(results.values())).values()))["turns"],
        "random": {k: round(100 * v, 2) for k, v in next(iter(next(iter(results.values())).values()))["random"].items()},
        "models": summary,
        "paired_ndcg5_differences": comparisons,
        "check": check,
        "wall_s": round(time.perf_counter() - t_start, 1),
    }
    if args.perf and "learning" in args.parts:
        p = perf(data, args.out, results, args.seeds[0])
        rates = {k: v["train_samples_per_s"] for k, v in summary.items()}
        p["train_rate_vs_text"] = {k: round(v / rates["text"], 3) for k, v in rates.items()}
        doc["performance"] = p
    from modeling.report.plots import make_report

    runs = [os.path.join(args.out, "runs", name) for name in plan]
    for name, run in zip(plan, runs, strict=True):
        combine_seeds(run, part_seeds[name])  # RUN/metrics.json over its seeds, for `mmdial report`
    make_report(runs, os.path.join(args.out, "report"))
    text = json.dumps(doc, indent=2, sort_keys=True)
    from benchmarks.common import write_result

    with open(os.path.join(args.out, "bench_semantic.json"), "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    with open(os.path.join(args.out, "bench_semantic.md"), "w", encoding="utf-8") as fh:
        fh.write(markdown(doc))
    print(write_result("bench_semantic", doc))
    print(json.dumps({"check": check, "paired_ndcg5_differences": comparisons}, indent=2))


if __name__ == "__main__":
    main()
