"""MMD build throughput and start-up: the Beam build (FnApiRunner, N worker processes) against the
single-process converter (benchmarks/baseline_mmd.py), measured in the same run, alternately.

    python -m benchmarks.bench_mmd --out RESULT.json [--dialogs 20000] [--rounds 8-10] [--workers 2] [--repeat 3]

The corpus is `mmdial generate mmd --dialogs N --rounds R --no-images --states-fraction 0`
(text-only: every image ref is counted as missing, so the figures measure parsing, row building
and Parquet writing). Each command runs `--repeat` times, alternating baseline and Beam so both
see the same machine load; the best (least disturbed) run of each is compared. Start-up is the
wall time of a 20-dialog build, where nearly everything is fixed cost. Results go to `--out`
(never a tracked file): wall and CPU seconds, peak RSS, throughput and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from benchmarks.common import dir_size, machine, run_measured

REPO = Path(__file__).resolve().parents[1]


def _generate(py: str, raw: Path, dialogs: int, rounds: str) -> None:
    if (raw / "GENERATED.json").exists():
        return
    shutil.rmtree(raw, ignore_errors=True)
    cmd = [py, "-m", "pipelines.cli.main", "generate", "mmd", "--out", str(raw), "--dialogs", str(dialogs)]
    cmd += ["--rounds", rounds, "--no-images", "--states-fraction", "0", "--seed", "1"]
    print("generated", run_measured(cmd, cwd=str(REPO))["seconds"], "s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="Where the JSON results go.")
    ap.add_argument("--dialogs", type=int, default=20_000)
    ap.add_argument("--rounds", default="8-10")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", default=str(REPO / "benchmarks" / "data"))
    args = ap.parse_args()
    data = Path(args.data)
    py = sys.executable
    raw = data / f"mmd-{args.dialogs}-r{args.rounds}"
    small = data / "mmd-20-startup"
    _generate(py, raw, args.dialogs, args.rounds)
    _generate(py, small, 20, "1-3")
    counts = json.loads((raw / "GENERATED.json").read_text())["counts"]
    input_bytes = sum(p.stat().st_size for p in (raw / "dialogs").rglob("*.json"))
    load = os.getloadavg()
    results = {
        "command": " ".join(sys.argv),
        "corpus": {**counts, "input_mib": round(input_bytes / 2**20, 1), "rounds": args.rounds},
        "machine": {**machine(), "loadavg_at_start": [round(x, 2) for x in load]},
        "workers": args.workers,
        "runs": {"baseline_single_process": [], "beam_build": [], "startup_20_dialogs": []},
    }

    def beam_cmd(src: Path, out: Path) -> list[str]:
        return [
            py,
            "-m",
            "pipelines.cli.main",
            "build",
            "mmd",
            "--raw",
            str(src),
            "--out",
            str(out),
            "--workers",
            str(args.workers),
            "--quiet",
        ]

    for i in range(args.repeat):
        for name, cmd, out_dir in (
            ("baseline_single_process", [py, "-m", "benchmarks.baseline_mmd", str(raw), str(data / "out-baseline")], data / "out-baseline"),
            ("beam_build", beam_cmd(raw, data / "out-beam"), data / "out-beam"),
            ("startup_20_dialogs", beam_cmd(small, data / "out-small"), data / "out-small"),
        ):
            for d in (out_dir, out_dir.parent / f".{out_dir.name}.builds"):
                shutil.rmtree(d, ignore_errors=True)
                if d.is_symlink():
                    d.unlink()
            r = run_measured(cmd, cwd=str(REPO))
            r.pop("output_tail")
            r["output_mib"] = round(dir_size(out_dir) / 2**20, 1)
            results["runs"][name].append(r)
            print(i, name, r, flush=True)
    best = {k: min(v, key=lambda r: r["seconds"]) for k, v in results["runs"].items()}
    for k in ("baseline_single_process", "beam_build"):
        best[k] = {**best[k], "dialogs_per_s": round(counts["dialogs"] / best[k]["seconds"], 1)}
        best[k]["utterances_per_s"] = round(counts["utterances"] / best[k]["seconds"], 1)
    results["best"] = best
    b, s = best["beam_build"], best["baseline_single_process"]
    results["ratio_throughput_beam_over_baseline"] = round(s["seconds"] / b["seconds"], 3)
    results["ratio_cpu_beam_over_baseline"] = round(b["cpu_s"] / s["cpu_s"], 3)
    results["targets"] = {
        "throughput_ratio_min": 1.7,
        "startup_s_max": 3.0,
        "throughput_met": results["ratio_throughput_beam_over_baseline"] >= 1.7,
        "startup_met": best["startup_20_dialogs"]["seconds"] < 3.0,
    }
    results["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(out)


if __name__ == "__main__":
    main()
