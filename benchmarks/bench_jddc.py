"""JDDC build throughput at the paper's scale: the Beam build (FnApiRunner, N worker processes)
against the single-process converter (benchmarks/baseline_jddc.py), in the same run, on the same
generated text-only corpus.

    python -m benchmarks.bench_jddc [--sessions 246153] [--mean-turns 14.06] [--workers 2] [--data DIR]

Defaults are JDDC 2.1's size (Table 2: 246,153 sessions, 3,459,888 utterances = 14.06 per
session). Text only: no image messages, no annotation layers (they are a few thousand rows), and
both sides read only the message files (the generated KB is left out), so both write the same
`dialogs` and `turns` tables.
Writes benchmarks/results/jddc.json. Metrics:
- seconds: wall time of the command (process start to exit);
- dialogs_per_s, utterances_per_s: sessions and messages of the corpus / seconds;
- peak_rss_mib: the largest sum of resident memory of the command's process tree (all Beam
  workers included), sampled every 0.2 s from /proc;
- output_mib: bytes of the Parquet files written;
- cpu_seconds: user + system CPU time of the command and all its descendants (Beam's worker
  processes included; less sensitive than wall time to other load on the machine); load_avg_1m_after: the machine's
  1-minute load average when the command ended (above the core count: the timings are inflated);
- ratio_throughput_beam_over_baseline: baseline seconds / Beam seconds (> 1: Beam is faster);
- ratio_cpu_beam_over_baseline: Beam CPU seconds / baseline CPU seconds (the cost of the
  bookkeeping: dead letters, reference checks, markers, Beam itself).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
CLI = "import sys; from pipelines.cli.main import main; sys.argv[0] = 'mmdial'; main()"


def _tree(pid: int) -> tuple[int, dict[int, float]]:
    """Resident bytes of `pid` and all its descendants, and each one's CPU seconds so far (/proc)."""
    children: dict[int, list[int]] = {}
    stats: dict[int, tuple[int, float]] = {}
    page, tick = os.sysconf("SC_PAGE_SIZE"), os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        stats[int(entry)] = (int(fields[21]) * page, (int(fields[11]) + int(fields[12])) / tick)
    total, cpu, stack = 0, {}, [pid]
    while stack:
        p = stack.pop()
        rss, seconds = stats.get(p, (0, 0.0))
        total += rss
        cpu[p] = seconds
        stack.extend(children.get(p, []))
    return total, cpu


def run_measured(cmd: list[str]) -> dict:
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=str(REPO), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}
    )
    peak, cpu, stop = [0], {}, threading.Event()

    def sample():
        while not stop.is_set():
            rss, seen = _tree(proc.pid)
            peak[0] = max(peak[0], rss)
            cpu.update(seen)
            stop.wait(0.2)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, _ = proc.communicate()
    stop.set()
    th.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed ({proc.returncode}):\n{out[-3000:]}")
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    waited = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # processes Beam does not wait for are not in RUSAGE_CHILDREN: take the larger of the two
    # (the /proc samples miss at most the last 0.2 s of each process)
    cpu_seconds = max(waited, sum(cpu.values()))
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "peak_rss_mib": round(peak[0] / 2**20, 1),
        "load_avg_1m_after": round(os.getloadavg()[0], 2),
        "output": out[-2000:],
    }


def dir_mib(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*.parquet")) / 2**20, 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=246_153)
    ap.add_argument("--mean-turns", type=float, default=14.06)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--data", default=str(REPO / "benchmarks" / "data"))
    ap.add_argument("--keep", action="store_true", help="Keep the build outputs.")
    args = ap.parse_args()
    data = Path(args.data)
    raw = data / f"jddc-{args.sessions}"
    py = sys.executable
    gen_seconds = None
    if not (raw / "GENERATED.json").exists():
        shutil.rmtree(raw, ignore_errors=True)
        g = run_measured(
            [
                py,
                "-c",
                CLI,
                "generate",
                "jddc",
                "--out",
                str(raw),
                "--sessions",
                str(args.sessions),
                "--mean-turns",
                str(args.mean_turns),
                "--text-only",
                "--annotated",
                "0",
            ]
        )
        gen_seconds = g["seconds"]
        print("generated in", gen_seconds, "s", flush=True)
    counts = json.loads((raw / "GENERATED.json").read_text())["counts"]
    # both sides convert the same thing: the message files (the KB is left out of the Beam input)
    messages = data / f"jddc-{args.sessions}-messages"
    shutil.rmtree(messages, ignore_errors=True)
    messages.mkdir(parents=True)
    for f in raw.glob("data_*.txt"):
        (messages / f.name).symlink_to(f.resolve())
    input_bytes = sum(p.stat().st_size for p in raw.glob("data_*.txt"))
    results = {
        "corpus": {
            "sessions": counts["sessions"],
            "utterances": counts["messages"],
            "kb_triples_generated_not_built": counts["kb_triples"],
            "input_mib": round(input_bytes / 2**20, 1),
            "generate_seconds": gen_seconds,
        },
        "paper_scale": {"sessions": 246_153, "utterances": 3_459_888},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "workers": args.workers,
    }
    runs = {
        "baseline_single_process": [py, "-m", "benchmarks.baseline_jddc", str(messages), str(data / "out-jddc-baseline")],
        "beam_build": [
            py,
            "-c",
            CLI,
            "build",
            "jddc",
            "--raw",
            str(raw),
            "--out",
            str(data / "out-jddc-beam"),
            "--workers",
            str(args.workers),
            "--quiet",
        ],
    }
    for name, cmd in runs.items():
        out_dir = data / ("out-jddc-baseline" if name.startswith("baseline") else "out-jddc-beam")
        shutil.rmtree(out_dir, ignore_errors=True)
        r = run_measured(cmd)
        tail = r.pop("output")
        r["dialogs_per_s"] = round(counts["sessions"] / r["seconds"], 1)
        r["utterances_per_s"] = round(counts["messages"] / r["seconds"], 1)
        r["output_mib"] = dir_mib(out_dir)
        if name == "beam_build":
            m = json.loads((out_dir / "manifest.json").read_text())
            r["num_shards"] = m["num_shards"]
            r["rows"] = {t: sum(s["rows"] for s in m["tables"][t].values()) for t in ("dialogs", "turns")}
            r["counts_reconcile"] = m["counts_reconcile"]
            r["build_seconds_in_manifest"] = m["run"]["seconds"]
        else:
            r["rows"] = json.loads(tail.strip().splitlines()[-1])
        results[name] = r
        print(name, r, flush=True)
        if not args.keep:
            shutil.rmtree(out_dir, ignore_errors=True)
    b, s = results["beam_build"], results["baseline_single_process"]
    results["ratio_throughput_beam_over_baseline"] = round(s["seconds"] / b["seconds"], 3)
    results["ratio_cpu_beam_over_baseline"] = round(b["cpu_seconds"] / s["cpu_seconds"], 3)
    results["ratio_peak_rss_beam_over_baseline"] = round(b["peak_rss_mib"] / s["peak_rss_mib"], 3)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "jddc.json"
    path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(path)


if __name__ == "__main__":
    main()
