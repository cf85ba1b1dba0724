"""MMD build throughput: the Beam build (FnApiRunner, N worker processes) against the
single-process converter (benchmarks/baseline_mmd.py), in the same run, on a generated corpus.

    python -m benchmarks.bench_mmd [--dialogs 150000] [--workers 2] [--data DIR]

Writes benchmarks/results/mmd.json. Images are not generated (text-only build; every image ref is
counted as missing), so the figures measure parsing, row building and Parquet writing.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from benchmarks.common import dir_size, machine, run_measured, write_result

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dialogs", type=int, default=150_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--data", default=str(REPO / "benchmarks" / "data"))
    args = ap.parse_args()
    data = Path(args.data)
    raw = data / f"mmd-{args.dialogs}"
    py = sys.executable
    if not (raw / "GENERATED.json").exists():
        shutil.rmtree(raw, ignore_errors=True)
        gen = run_measured(
            [
                py,
                "-m",
                "pipelines.cli.main",
                "generate",
                "mmd",
                "--out",
                str(raw),
                "--dialogs",
                str(args.dialogs),
                "--rounds",
                "6-9",
                "--no-images",
                "--states-fraction",
                "0",
            ],
            cwd=str(REPO),
        )
        print("generated", gen["seconds"], "s", flush=True)
    import json

    counts = json.loads((raw / "GENERATED.json").read_text())["counts"]
    input_bytes = sum(p.stat().st_size for p in (raw / "dialogs").rglob("*.json"))
    results = {"corpus": {**counts, "input_mib": round(input_bytes / 2**20, 1)}, "machine": machine(), "workers": args.workers}
    for name, cmd in (
        ("baseline_single_process", [py, "-m", "benchmarks.baseline_mmd", str(raw), str(data / "out-baseline")]),
        (
            "beam_build",
            [
                py,
                "-m",
                "pipelines.cli.main",
                "build",
                "mmd",
                "--raw",
                str(raw),
                "--out",
                str(data / "out-beam"),
                "--workers",
                str(args.workers),
                "--quiet",
            ],
        ),
    ):
        out_dir = data / ("out-baseline" if name.startswith("baseline") else "out-beam")
        shutil.rmtree(out_dir, ignore_errors=True)
        r = run_measured(cmd, cwd=str(REPO))
        r.pop("output_tail")
        r["dialogs_per_s"] = round(counts["dialogs"] / r["seconds"], 1)
        r["utterances_per_s"] = round(counts["utterances"] / r["seconds"], 1)
        r["output_mib"] = round(dir_size(out_dir) / 2**20, 1)
        results[name] = r
        print(name, r, flush=True)
    b, s = results["beam_build"], results["baseline_single_process"]
    results["ratio_throughput_beam_over_baseline"] = round(s["seconds"] / b["seconds"], 3)
    results["targets"] = {
        "throughput_ratio_min": 1.0,
        "peak_rss_mib_max": 2048,
        "throughput_met": results["ratio_throughput_beam_over_baseline"] >= 1.0,
        "rss_met": b["peak_rss_mib"] <= 2048,
    }
    print(write_result("mmd", results))


if __name__ == "__main__":
    main()
