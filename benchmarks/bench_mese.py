"""MESE learning check on synthetic ReDial (run by hand; tens of minutes on a shared CPU).

    python -m benchmarks.bench_mese [--dialogs 300] [--movies 300] [--seeds 0 1 2] [--lg-seeds 0] [--out DIR]

The pipeline's generator writes movies whose genre decides what the recommender suggests and
whose plots use their genre's words; the seeker asks by genre name, by a plot theme, or only by
naming a liked movie. The real Beam build makes the tables; MESE (`mese_smoke`) and MESE w/o
content (`mese_smoke_wo_content`) train for every seed, MESE-LG (`mese_smoke_lg`) for
`--lg-seeds`; each is evaluated on the test split (every recommendation turn).
Pass when, on the means over seeds:
  1. MESE's R@10 and R@50 are at least twice those of popularity and of random recommendation;
  2. MESE w/o content is below MESE on R@10 and R@50;
  3. the trained item encoders (the ITE/ranking one of Table 6, and the selection one) cluster
     single-genre items better than their untrained initialisations (K = 3, 4, 5).
`--only NAME` runs one variant (to run variants in parallel processes); a later run without it
reuses every finished variant (its metrics.json) and writes the summary.
Writes OUT/bench_mese.json and OUT/mese_tables.md (the paper-shaped tables).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time


def build(raw: str, out: str, dialogs: int, movies: int, seed: int) -> str:
    from pipelines.core.engine import BuildOptions, run_build
    from pipelines.redial.builder import RedialBuilder
    from pipelines.redial.generator import GeneratorConfig, generate

    if not os.path.exists(os.path.join(out, "manifest.json")):
        generate(GeneratorConfig(out=raw, dialogs=dialogs, movies=movies, seed=seed))
        run_build(RedialBuilder(raw=raw), BuildOptions(out=out, workers=1, progress=False), command="bench")
    return out


def run_variant(config: str, data: str, out: str, seeds: list[int], log) -> tuple[dict, float]:
    from modeling.config import load_config
    from modeling.mese.evaluate import evaluate_run
    from modeling.mese.train import train

    t0 = time.perf_counter()
    if not os.path.exists(os.path.join(out, "metrics.json")):
        cfg = load_config(config, [f"data={data}", f"output_dir={out}", f"seeds={json.dumps(seeds)}"])
        train(cfg, log=log)
        evaluate_run(out, log=log)
    with open(os.path.join(out, "metrics.json"), encoding="utf-8") as fh:
        return json.load(fh), round(time.perf_counter() - t0, 1)


def checks(mese: dict, wo: dict) -> dict:
    m, b = mese["metrics"], mese["baselines"]
    out = {}
    for k in ("R@10", "R@50"):
        out[f"{k}: MESE >= 2x popularity"] = m[k]["mean"] >= 2 * b["popularity"][k]["mean"]
        out[f"{k}: MESE >= 2x random"] = m[k]["mean"] >= 2 * b["random"][k]["mean"]
        out[f"{k}: w/o content < MESE"] = wo["metrics"][k]["mean"] < m[k]["mean"]
    c = mese["clustering"]
    for k in ("K=3", "K=4", "K=5"):
        out[f"clustering {k}: trained ITE (ranking) encoder > raw"] = c["trained"][k]["mean"] > c["raw"][k]["mean"]
        out[f"clustering {k}: trained selection encoder > raw"] = c["trained_select"][k]["mean"] > c["raw_select"][k]["mean"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dialogs", type=int, default=300)
    ap.add_argument("--movies", type=int, default=300, help="catalogue size (10 genres)")
    ap.add_argument("--data-seed", type=int, default=1)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--lg-seeds", type=int, nargs="*", default=[0])
    ap.add_argument("--out", default="demo-out/bench-mese")
    ap.add_argument("--only", choices=["MESE", "MESE w/o content", "MESE-LG"])
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    def log(msg: str) -> None:
        print(msg, flush=True)

    data = build(os.path.join(args.out, "raw"), os.path.join(args.out, "build"), args.dialogs, args.movies, args.data_seed)
    runs = {"MESE": ("mese_smoke", args.seeds), "MESE w/o content": ("mese_smoke_wo_content", args.seeds)}
    if args.lg_seeds:
        runs["MESE-LG"] = ("mese_smoke_lg", args.lg_seeds)
    results, wall = {}, {}
    if args.only:
        runs = {args.only: runs[args.only]}
    for name, (config, seeds) in runs.items():
        folder = os.path.join(args.out, "runs", config)
        results[name], wall[name] = run_variant(config, data, folder, seeds, log)
    if args.only:
        return
    from modeling.mese.report import tables

    text = tables(list(results.values()))
    with open(os.path.join(args.out, "mese_tables.md"), "w", encoding="utf-8") as fh:
        fh.write(text)
    verdict = checks(results["MESE"], results["MESE w/o content"])
    doc = {
        "command": f"python -m benchmarks.bench_mese --dialogs {args.dialogs} --movies {args.movies} --seeds {' '.join(map(str, args.seeds))} --lg-seeds {' '.join(map(str, args.lg_seeds))}",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared with other jobs)",
        "dialogs": args.dialogs,
        "seeds": args.seeds,
        "checks": verdict,
        "passed": all(verdict.values()),
        "wall_s": wall,
        "results": {n: {k: r[k] for k in ("metrics", "baselines", "clustering")} for n, r in results.items()},
    }
    with open(os.path.join(args.out, "bench_mese.json"), "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2, sort_keys=True)
    print(text)
    for k, v in verdict.items():
        print(f"{'PASS' if v else 'FAIL'}  {k}")


if __name__ == "__main__":
    main()
