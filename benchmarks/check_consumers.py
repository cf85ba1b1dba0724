"""Read a build as its consumers would, and say what works: Hugging Face `datasets` (the default
config and every table), polars and duckdb globs over every table folder, no 0-row files, and the
card's statistics and plots.

    python -m benchmarks.check_consumers BUILD [BUILD ...] --out RESULT.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def check(build: Path, cache: str) -> dict:
    import datasets
    import duckdb
    import polars as pl
    import pyarrow.parquet as pq

    m = json.loads((build / "manifest.json").read_text())
    res: dict = {"build": str(build), "dataset": m["dataset"], "tables": {}, "problems": []}
    t0 = time.time()
    default = datasets.load_dataset(str(build), cache_dir=cache)
    res["default_config"] = {s: len(d) for s, d in default.items()}
    for table, splits in m["tables"].items():
        want = {s: info["rows"] for s, info in splits.items()}
        ds = datasets.load_dataset(str(build), table, cache_dir=cache)
        got = {s: len(d) for s, d in ds.items()}
        glob = str(build / table / "*.parquet")
        pl_rows = pl.read_parquet(glob).height
        dd_rows = duckdb.sql(f"select count(*) from read_parquet('{glob}')").fetchall()[0][0]
        empty = [f["path"] for info in splits.values() for f in info["files"] if pq.ParquetFile(build / f["path"]).metadata.num_rows == 0]
        res["tables"][table] = {"datasets": got, "polars": pl_rows, "duckdb": dd_rows, "manifest": want, "empty_files": empty}
        if got != want or pl_rows != sum(want.values()) or dd_rows != sum(want.values()) or empty:
            res["problems"].append(table)
    text = (build / "README.md").read_text(encoding="utf-8")
    res["card"] = {"statistics": "## Statistics" in text, "plots": [line for line in text.splitlines() if line.startswith("![")]}
    res["seconds"] = round(time.time() - t0, 1)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("builds", nargs="+")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        results = [check(Path(b), cache) for b in args.builds]
    Path(args.out).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    for r in results:
        print(r["dataset"], r["build"], "OK" if not r["problems"] else f"PROBLEMS {r['problems']}", r["seconds"], "s")


if __name__ == "__main__":
    main()
