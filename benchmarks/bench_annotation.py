"""Annotation at crowd scale: push and pull of N tasks (default 10,000) against a real Label Studio.

    nice python -m benchmarks.bench_annotation --tasks 10000 --out /tmp/bench-annotation.json [--data-dir D] [--image-kb 100]

A throwaway server is started in a temporary data dir (or the running one of `--data-dir` is used).
The input is N summary-flow sessions of the synthetic JDDC-like kind (tests/annotation), each with
one or two images of `--image-kb` KB (noise JPEGs: they do not compress). Measured, each figure in
the results file:

- `push_s`, `pull_s`: wall seconds of `annotation.sync.push` / `pull` in this process;
- `push_peak_rss_mb`, `pull_peak_rss_mb`: peak resident memory of this process (the client side;
  ru_maxrss, so the pull's figure is the peak over the whole run);
- `server_peak_rss_mb`: peak resident memory of the server's process tree, sampled every 0.5 s;
- `db_growth_bytes_per_task`: growth of Label Studio's SQLite database (file + WAL) per task pushed;
- `image_store_bytes`: bytes written to the image store (the images live there, not in the database);
- `repush_s`: a second push of the same input (finds every task on the server, sends nothing);
- `annotate_s`: the scripted annotation of `--annotate` tasks (default all) through the API (not part of the claim).

The input repeats the test kit's images (150 distinct ones, whatever N): the image store's size does
not grow with N, the tasks' references do.

Results go where `--out` says (never over a tracked file). Figures taken on a shared or busy
machine are labelled as such in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--image-kb", type=int, default=100)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--annotate", type=int, default=None, help="annotate this many tasks before the pull (default: all)")
    ap.add_argument("--data-dir", help="use the running server of this data dir (default: a throwaway one)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "tests" / "annotation"))
    from annotation_testkit import annotate_all, jddc_tables, summary_result  # noqa: E402
    from test_annotation_images import db_bytes, noisy_jpeg  # noqa: E402

    from annotation.client import LSClient, RetryPolicy
    from annotation.projects import open_project
    from annotation.server import LabelStudioServer, ServerConfig, files_root
    from annotation.sync import pull, push
    from benchmarks.common import _tree_rss
    from schemas import get

    tmp = tempfile.mkdtemp(prefix="mmdial-bench-annotation-")
    server = LabelStudioServer(ServerConfig(args.data_dir or os.path.join(tmp, "ls")))
    own = not args.data_dir
    server.start()
    client = LSClient(
        server.url, server.token(), retry=RetryPolicy(deadline_s=600), state_file=server.projects_file, data_dir=server.data_dir
    )
    peak_server = [0]
    stop = threading.Event()

    def sample():
        pid = server.status().get("pid")
        while pid and not stop.is_set():
            peak_server[0] = max(peak_server[0], _tree_rss(pid))
            stop.wait(0.5)

    threading.Thread(target=sample, daemon=True).start()
    try:
        tables = jddc_tables(args.tasks)
        rows = tables["images"].to_pylist()
        for i, r in enumerate(rows):
            r["data"] = noisy_jpeg(i, args.image_kb * 1000)
        tables["images"] = get("images").to_arrow(rows)
        del rows
        project = f"bench-{args.tasks}-{int(time.time())}"
        res: dict = {"tasks": args.tasks, "image_kb": args.image_kb, "images": tables["images"].num_rows, "batch": args.batch}
        db0 = db_bytes(server)
        t0 = time.perf_counter()
        rep = push(client, "summary", tables, project, batch_size=args.batch)
        res["push_s"] = round(time.perf_counter() - t0, 2)
        res["push_peak_rss_mb"] = round(_rss_mb(), 1)
        res["created"] = rep.created
        res["db_growth_bytes_per_task"] = round((db_bytes(server) - db0) / max(1, rep.created), 1)
        res["image_store_bytes"] = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(files_root(server.data_dir)) for f in fs)
        t0 = time.perf_counter()
        again = push(client, "summary", tables, project, batch_size=args.batch)
        res["repush_s"] = round(time.perf_counter() - t0, 2)
        res["repush_created"] = again.created
        t0 = time.perf_counter()
        budget = [args.tasks if args.annotate is None else args.annotate]

        def some(data):  # the first --annotate tasks get an answer, the rest stay to do
            budget[0] -= 1
            return summary_result(data) if budget[0] >= 0 else None

        annotate_all(client, open_project(client, project).id, some)
        res["annotated"] = min(args.tasks, args.tasks if args.annotate is None else args.annotate)
        res["annotate_s"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        pr = pull(client, project, os.path.join(tmp, "pulled"))
        res["pull_s"] = round(time.perf_counter() - t0, 2)
        res["pull_peak_rss_mb"] = round(_rss_mb(), 1)
        res["pulled"] = {"tasks": pr.tasks, "done": pr.done, "lines": pr.lines, "dead": pr.dead}
        res["server_peak_rss_mb"] = round(peak_server[0] / 2**20, 1)
        res["cpus"] = os.cpu_count()
    finally:
        stop.set()
        if own:
            server.stop()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(res, fh, indent=2, sort_keys=True)
    print(json.dumps(res, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
