"""Learning check for JDDC discourse parsing and summarisation (issue #13), CPU-sized.

Generates a synthetic JDDC corpus whose sessions are all annotated, builds it, then trains and
evaluates over several seeds, through the same code as `mmdial train|evaluate`:
Deep Sequential (text-only and multimodal) against "attach to the previous EDU", and Lead,
LexRank, Pointer-Generator, text-only and multimodal BERTSUMABS against Lead. Prints Tables 8 and
9 (mean ± std over seeds) and whether each claim holds, and writes OUT/tables.md and
OUT/learning.json (never a tracked file).

    .venv/bin/python benchmarks/jddc_parse_learning.py --out /tmp/jddc-parse-bench [--sessions 200] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import time


def build_corpus(out: str, sessions: int, seed: int) -> str:
    from pipelines.jddc.generator import GeneratorConfig, generate

    raw, build = os.path.join(out, "raw"), os.path.join(out, "build")
    if not os.path.exists(os.path.join(build, "manifest.json")):
        generate(GeneratorConfig(out=raw, sessions=sessions, annotated=sessions, seed=seed))
        import subprocess
        import sys

        cmd = [sys.executable, "-m", "pipelines.cli.main", "build", "jddc", "--raw", raw, "--out", build, "--workers", "1"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return build


def run_all(
    build: str, out: str, seeds: list[int], epochs: dict, batch_size: int, train: bool = True, only: list[str] | None = None, log=print
) -> list[dict]:
    from modeling.config import load_config
    from modeling.jddc import parse_tasks

    plans = [
        ("jddc-discourse", "jddc_discourse_smoke", "disc-text", ["model.multimodal=false", f"train.epochs={epochs['discourse']}"]),
        ("jddc-discourse", "jddc_discourse_smoke", "disc-mm", ["model.multimodal=true", f"train.epochs={epochs['discourse']}"]),
        ("jddc-summary-lead", "jddc_summary_smoke", "sum-lead", []),
        ("jddc-summary-lexrank", "jddc_summary_smoke", "sum-lexrank", []),
        ("jddc-summary-pg", "jddc_summary_smoke", "sum-pg", [f"train.epochs={epochs['pg']}"]),
        ("jddc-summary-bertsum", "jddc_summary_smoke", "sum-bertsum", ["model.multimodal=false", f"train.epochs={epochs['bertsum']}"]),
        ("jddc-summary-bertsum", "jddc_summary_smoke", "sum-bertsum-mm", ["model.multimodal=true", f"train.epochs={epochs['bertsum']}"]),
    ]
    results = []
    for task, config, name, overrides in plans:
        if only and name not in only:
            continue
        run = os.path.join(out, "runs", name)
        seeds_arg = "[" + ",".join(str(s) for s in seeds) + "]"
        cfg = load_config(
            config, [f"data={build}", f"output_dir={run}", f"seeds={seeds_arg}", f"train.batch_size={batch_size}", *overrides]
        )
        started = time.time()
        if train:
            parse_tasks.train(task, cfg, log=lambda m: None)
        res = parse_tasks.evaluate_run(run, "test", None, "cpu", log=log)
        res["seconds"] = round(time.time() - started, 1)
        log(parse_tasks.render(res) + f"   [{res['seconds']} s]")
        results.append(res)
    return results


def claims(results: list[dict]) -> dict:
    """Each claim of the learning check, per seed and on the mean."""
    by_row = {r["row"]: r for r in results}
    out = {}
    for row in ("Text-only Deep Sequential", "Multimodal Deep Sequential"):
        r = by_row[row]
        base = r["trivial"]["Link"]["mean"]
        out[f"{row} Link > previous EDU"] = all(m["Link"] > base for m in r["per_seed"].values())
    lead = by_row["Lead"]["metrics"]
    for row in ("Pointer-Generator", "Text-only BERTSUMABS", "Multimodal BERTSUMABS"):
        r = by_row[row]
        out[f"{row} ROUGE > Lead"] = all(
            all(m[k] > lead[k]["mean"] for k in ("ROUGE-1", "ROUGE-2", "ROUGE-L")) for m in r["per_seed"].values()
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--sessions", type=int, default=400)
    ap.add_argument("--corpus-seed", type=int, default=7)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--discourse-epochs", type=int, default=12)
    ap.add_argument("--pg-epochs", type=int, default=12)
    ap.add_argument("--bertsum-epochs", type=int, default=12)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--evaluate-only", action="store_true", help="score the runs already in OUT/runs again")
    ap.add_argument(
        "--only", nargs="+", help="run only these rows (disc-text, disc-mm, sum-lead, sum-lexrank, sum-pg, sum-bertsum, sum-bertsum-mm)"
    )
    args = ap.parse_args()
    from modeling.jddc.report import tables

    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    build = build_corpus(args.out, args.sessions, args.corpus_seed)
    epochs = {"discourse": args.discourse_epochs, "pg": args.pg_epochs, "bertsum": args.bertsum_epochs}
    results = run_all(build, args.out, args.seeds, epochs, args.batch_size, not args.evaluate_only, args.only)
    text = tables(results)
    if args.only:  # a part of the rows (e.g. run beside another process): no verdict, no files
        print(text)
        return
    verdict = claims(results)
    print(text)
    for k, v in verdict.items():
        print(f"{'holds' if v else 'FAILS'}: {k} (every seed)")
    print(f"total {time.time() - started:.0f} s")
    with open(os.path.join(args.out, "tables.md"), "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    with open(os.path.join(args.out, "learning.json"), "w", encoding="utf-8") as fh:
        json.dump({"args": vars(args), "claims": verdict, "results": results}, fh, indent=2, ensure_ascii=False)


if __name__ == "__main__":
    main()
