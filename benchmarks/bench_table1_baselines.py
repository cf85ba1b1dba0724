"""Learning check of the Table 1 baselines (MHRED, UMD, MAGIC, LARCH, TREASURE) on generated MMD.

    python -m benchmarks.bench_table1_baselines --out DIR [--dialogs 300] [--seeds 0 1 2] [--kinds mhred ...] [--gold]

The pipeline's generator and the real Beam build make a small MMD build (states on half of the
dialogs, 64-pixel images); each baseline trains with its `<kind>_smoke` config (with `--gold`:
`baseline.gold_states=true`, section 5.3) for every seed through the registry (the same loader,
loop and evaluator as SeMANTIC) and is evaluated on the test split (every turn's full candidate
list, ties against the positives). Pass when, for every kind and every seed, NDCG@5 is at least
`--margin` (default 0.10, i.e. 10 points) above the exact expectation of a uniformly random
ranking of the same candidate lists (`modeling.metrics.ranking.random_expectation`).
Writes OUT/bench_table1_baselines.json (`--gold`: ..._gold.json; per kind: per-seed metrics, mean, std, random, pass).
A re-run reuses every finished run (its metrics.json).
"""

from __future__ import annotations

import argparse
import json
import os
import time

KINDS = ("mhred", "umd", "magic", "larch", "treasure")


def build(root: str, dialogs: int, seed: int = 1) -> str:
    from pipelines.core.engine import BuildOptions, run_build
    from pipelines.mmd.builder import MMDBuilder
    from pipelines.mmd.generator import GeneratorConfig, generate

    raw, out = os.path.join(root, "raw"), os.path.join(root, "build")
    if not os.path.exists(os.path.join(out, "manifest.json")):
        generate(GeneratorConfig(out=raw, dialogs=dialogs, seed=seed, states_fraction=0.5, image_size=64))
        run_build(
            MMDBuilder(raw=raw, states_path=os.path.join(raw, "states.jsonl")),
            BuildOptions(out=out, workers=1, progress=False),
            command="bench",
        )
    return out


def run_kind(kind: str, data: str, out: str, seeds: list[int], gold: bool, log) -> tuple[dict, float]:
    from modeling import recipes
    from modeling.config import load_config

    t0 = time.perf_counter()
    if not os.path.exists(os.path.join(out, "metrics.json")):
        overrides = [f"data={data}", f"output_dir={out}", f"seeds={json.dumps(seeds)}", "threads=1", "train.progress=false"]
        cfg = load_config(f"{kind}_smoke", overrides + (["baseline.gold_states=true"] if gold else []))
        recipe = recipes.get(kind)
        recipe.train(cfg, log=log)
        recipe.evaluate(recipes.EvalRequest(out, log=log))
    with open(os.path.join(out, "metrics.json"), encoding="utf-8") as fh:
        return json.load(fh), round(time.perf_counter() - t0, 1)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--dialogs", type=int, default=300)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    p.add_argument("--gold", action="store_true", help="feed the gold dialog states (section 5.3)")
    p.add_argument("--margin", type=float, default=0.10)
    a = p.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    data = build(os.path.join(a.out, "mmd"), a.dialogs)
    results, ok = {}, True
    for kind in a.kinds:
        m, secs = run_kind(kind, data, os.path.join(a.out, f"{kind}{'_gold' if a.gold else ''}"), a.seeds, a.gold, print)
        per_seed = {s: v["NDCG@5"] for s, v in m["seeds"].items()}
        passed = all(v >= m["random"]["NDCG@5"] + a.margin for v in per_seed.values())
        ok &= passed
        results[kind] = {
            "NDCG@5 per seed": per_seed,
            "mean": m["mean"],
            "std": m["std"],
            "random": m["random"],
            "turns": m["turns"],
            "seconds": secs,
            "pass": passed,
        }
        print(
            f"{kind}: NDCG@5 {100 * m['mean']['NDCG@5']:.2f} ± {100 * m['std']['NDCG@5']:.2f} (seeds {per_seed}) vs random {100 * m['random']['NDCG@5']:.2f}: {'pass' if passed else 'FAIL'}"
        )
    doc = {
        "gold_states": a.gold,
        "seeds": a.seeds,
        "dialogs": a.dialogs,
        "margin": a.margin,
        "note": "measured under load, not a claim",
        "kinds": results,
        "pass": ok,
    }
    with open(os.path.join(a.out, f"bench_table1_baselines{'_gold' if a.gold else ''}.json"), "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2, sort_keys=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
