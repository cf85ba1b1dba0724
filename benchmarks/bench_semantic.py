"""SeMANTIC learning check and throughput (run by hand; minutes on CPU).

    python -m benchmarks.bench_semantic [--dialogs 1500] [--epochs 10] [--seeds 0 1] [--out DIR]

1. Learning check on synthetic MMD (the pipeline's generator: products whose type and colour
   decide relevance, states for every dialog, 20 negatives per turn), built by the real pipeline:
   SeMANTIC (100% and 20% of the dialogs' states) against the text-only and the CLIP-style
   baselines, all with the `smoke` architecture and the same epochs. Pass: SeMANTIC's NDCG@5
   beats both baselines, and 20% supervision reaches >= 97% of full supervision's NDCG@5.
2. Throughput, as ratios to a baseline measured in the same run: training samples/s of each
   model (from its run log) relative to the text-only model; the paper-size SeMANTIC
   (`mmd_v3` config: d=768, 3 layers, 8 heads) for a few steps; evaluation turns/s with 1,000
   candidates per turn (a second build with 1,000 negatives per recommendation turn).

Results go to OUT/bench_semantic.json and benchmarks/results/bench_semantic.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time


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


def run_model(kind: str, data: str, out: str, seeds: list[int], overrides: list[str], reuse: bool = False) -> dict:
    from modeling.config import load_config
    from modeling.train.evaluate import evaluate_run
    from modeling.train.loop import train

    train_s = None
    if not (reuse and os.path.exists(os.path.join(out, "metrics.json"))):
        shutil.rmtree(out, ignore_errors=True)
        cfg = load_config("smoke", [f"data={data}", f"output_dir={out}", f"seeds={json.dumps(seeds)}", "train.progress=false", *overrides])
        t0 = time.perf_counter()
        train(kind, cfg, log=lambda m: None)
        train_s = round(time.perf_counter() - t0, 1)
    res = evaluate_run(out, "test")
    rates = []
    for seed in seeds:
        for line in open(os.path.join(out, f"seed-{seed}", "metrics.jsonl"), encoding="utf-8"):
            rec = json.loads(line)
            if "train_samples_per_s" in rec and rec["epoch"] > 0:  # epoch 0 includes warm-up
                rates.append(rec["train_samples_per_s"])
    return {
        "mean": res["mean"],
        "std": res["std"],
        "random": res["random"],
        "turns": res["turns"],
        "train_s": train_s,
        "train_samples_per_s": sum(rates) / max(len(rates), 1),
        "eval_turns_per_s": res["details"][str(seeds[0])]["turns_per_s"],
    }


def paper_size_rate(data: str, out: str, steps: int = 4, batch: int = 16) -> float:
    from modeling.config import load_config
    from modeling.train.loop import train

    shutil.rmtree(out, ignore_errors=True)
    cfg = load_config(
        "mmd_v3",
        [
            f"data={data}",
            f"output_dir={out}",
            "seeds=[0]",
            "train.progress=false",
            f"train.max_steps={steps + 1}",
            f"train.batch_size={batch}",
            "loader.valid_turns=0",
            "image.encoder=resnet18_random",
            "image.image_size=64",
            "threads=0",
        ],
    )
    train("semantic", cfg, log=lambda m: None)
    lines = [json.loads(x) for x in open(os.path.join(out, "seed-0", "metrics.jsonl"), encoding="utf-8")]
    epoch = [x for x in lines if "train_samples_per_s" in x][-1]
    return epoch["train_samples_per_s"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dialogs", type=int, default=1500)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="/tmp/bench_semantic")
    ap.add_argument("--reuse", action="store_true", help="keep finished runs of an earlier invocation (same --out)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    import torch

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
    common = [f"train.epochs={args.epochs}", f"threads={args.threads}"]
    results = {}
    plan = {
        "semantic_100": ("semantic", ["loader.state_ratio=1.0"]),
        "semantic_20": ("semantic", ["loader.state_ratio=0.2"]),
        "text": ("text", []),
        "clip": ("clip", []),
    }
    for name, (kind, extra) in plan.items():
        results[name] = run_model(kind, data, os.path.join(args.out, "runs", name), args.seeds, common + extra, args.reuse)
        print(
            name,
            {k: round(v, 4) for k, v in results[name]["mean"].items() if k.endswith("@5")},
            f"{results[name]['train_samples_per_s']:.1f} samples/s",
            flush=True,
        )
    nd = {k: v["mean"]["NDCG@5"] for k, v in results.items()}
    check = {
        "semantic_beats_text": nd["semantic_100"] > nd["text"],
        "semantic_beats_clip": nd["semantic_100"] > nd["clip"],
        "ratio_20_over_100": nd["semantic_20"] / nd["semantic_100"],
        "ratio_20_at_least_97pct": nd["semantic_20"] >= 0.97 * nd["semantic_100"],
    }
    # evaluation at 1,000 candidates per turn
    big = build(
        os.path.join(args.out, "raw1000"),
        os.path.join(args.out, "build1000"),
        dialogs=150,
        products=1100,
        seed=8,
        states_fraction=0.0,
        negatives=1000,
        image_size=64,
    )
    from modeling.train.evaluate import evaluate_run

    eval_res = evaluate_run(os.path.join(args.out, "runs", "semantic_100"), "train", data=big)
    text_eval = evaluate_run(os.path.join(args.out, "runs", "text"), "train", data=big)
    d0 = eval_res["details"][str(args.seeds[0])]
    t0 = text_eval["details"][str(args.seeds[0])]
    paper_rate = paper_size_rate(data, os.path.join(args.out, "runs", "paper_size"))
    perf = {
        "train_samples_per_s": {k: round(v["train_samples_per_s"], 1) for k, v in results.items()},
        "train_rate_vs_text": {k: round(v["train_samples_per_s"] / results["text"]["train_samples_per_s"], 3) for k, v in results.items()},
        "paper_size_semantic_train_samples_per_s": round(paper_rate, 2),
        "paper_size_vs_smoke_semantic": round(paper_rate / results["semantic_100"]["train_samples_per_s"], 4),
        "eval_1000_candidates": {
            "turns": d0["turns"],
            "candidates_per_turn": round(d0["candidates"] / max(d0["turns"], 1), 1),
            "semantic_turns_per_s": round(d0["turns_per_s"], 1),
            "text_turns_per_s": round(t0["turns_per_s"], 1),
            "semantic_vs_text": round(d0["turns_per_s"] / t0["turns_per_s"], 3),
            "product_encode_s": d0["product_encode_s"],
        },
    }
    doc = {
        "benchmark": "bench_semantic",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {
            "cpu_count": os.cpu_count(),
            "torch_threads": args.threads,
            "platform": platform.platform(),
            "torch": torch.__version__,
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        },
        "setup": {"dialogs": args.dialogs, "epochs": args.epochs, "seeds": args.seeds, "config": "smoke", "negatives_per_turn": 20},
        "learning": {k: {"mean": v["mean"], "std": v["std"], "turns": v["turns"], "train_s": v["train_s"]} for k, v in results.items()},
        "random": results["text"]["random"],
        "check": check,
        "performance": perf,
    }
    text = json.dumps(doc, indent=2, sort_keys=True)
    for path in (os.path.join(args.out, "bench_semantic.json"), os.path.join(os.path.dirname(__file__), "results", "bench_semantic.json")):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    print(json.dumps({"check": check, "performance": perf}, indent=2))


if __name__ == "__main__":
    main()
