"""Run every benchmark in turn (`make bench`). Each writes benchmarks/results/<name>.json; the
figures are summarised by hand in docs/benchmarks.md. Full scale takes a long time on 2 cores:
pass `--quick` for small sizes that only check the benchmarks still run."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FULL = [
    ["benchmarks.bench_mmd", "--out", "benchmarks/results/mmd-run.json"],
    ["benchmarks.bench_jddc"],
    ["benchmarks.bench_simmc"],
    ["benchmarks.bench_privacy", "--part", "heldout", "--n", "63", "--seed", "2026", "--out", "benchmarks/results/privacy-heldout.json"],
]
QUICK = [
    ["benchmarks.bench_mmd", "--dialogs", "2000", "--repeat", "1", "--data", "/tmp/mmdial-bench", "--out", "/tmp/mmdial-bench/mmd.json"],
    ["benchmarks.bench_jddc", "--sessions", "5000"],
    ["benchmarks.bench_simmc", "--dialogs", "200", "--scenes", "30", "--repeats", "1"],
    ["benchmarks.bench_privacy", "--n", "12", "--out", "/tmp/mmdial-bench-privacy-quick.json"],
]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", nargs="*", help="names like bench_mmd")
    args = ap.parse_args()
    for spec in QUICK if args.quick else FULL:
        if args.only and spec[0].split(".")[-1] not in args.only:
            continue
        print(f"== {' '.join(spec)}", flush=True)
        rc = subprocess.call([sys.executable, "-m", *spec], cwd=ROOT)
        if rc:
            print(f"{spec[0]} failed ({rc})", file=sys.stderr)
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main())
