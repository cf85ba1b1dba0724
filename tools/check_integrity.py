"""Check published builds with DuckDB, independently of the build core: no dangling reference,
no duplicate id. Run by hand (or by tests/test_integrity_script.py) over the demo's builds:

    PYTHONPATH=. .venv/bin/python tools/check_integrity.py demo-out

Each argument is a build output (a folder with manifest.json) or a folder of them. The rules are
the ones the build recorded in `manifest.integrity.checked`, plus the common ones below, so a
build that skipped its own check is still held to them. Exit 1 when any build fails.
"""

from __future__ import annotations

import json
import os
import sys

COMMON = [
    ["turns", "image_ids", "images", "image_id"],
    ["products", "image_ids", "images", "image_id"],
    ["rec_samples", "positive_ids", "products", "product_id"],
    ["rec_samples", "negative_ids", "products", "product_id"],
    ["turns", "item_ids", "products", "product_id"],
    ["turns", "dialog_id", "dialogs", "dialog_id"],
]
UNIQUE = {"dialogs": ["dialog_id"], "images": ["image_id"], "products": ["product_id"]}


def builds(paths: list[str]) -> list[str]:
    out = []
    for p in paths:
        if os.path.isfile(os.path.join(p, "manifest.json")):
            out.append(p)
        elif os.path.isdir(p):
            out += sorted(os.path.join(p, d) for d in os.listdir(p) if os.path.isfile(os.path.join(p, d, "manifest.json")))
    return out


def _scan(build: str, manifest: dict, table: str) -> str | None:
    files = [os.path.join(build, f["path"]) for s in manifest["tables"].get(table, {}).values() for f in s["files"]]
    if not files:
        return None
    return "read_parquet([" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "])"


def check(build: str) -> list[str]:
    import duckdb

    manifest = json.load(open(os.path.join(build, "manifest.json")))
    checked = manifest.get("integrity", {}).get("checked", {})
    refs = {tuple(r) for r in COMMON + checked.get("references", [])}
    unique = {**UNIQUE, **checked.get("unique", {})}
    con = duckdb.connect()
    problems = []
    for table, column, target, target_column in sorted(refs):
        src, dst = _scan(build, manifest, table), _scan(build, manifest, target)
        if src is None:
            continue
        kind = con.execute(f"select typeof({column}) from {src} limit 1").fetchone()
        if kind is None:
            continue
        values = f"unnest({column})" if kind[0].endswith("[]") else column
        known = f"select {target_column} as id from {dst}" if dst else "select null::varchar as id where false"
        if target == "images" and _scan(build, manifest, "privacy_quarantine"):
            known += f" union all select image_id from {_scan(build, manifest, 'privacy_quarantine')}"
        n = con.execute(
            f"with v as (select {values} as id from {src}) select count(*) from v where id is not null and id not in ({known})"
        ).fetchone()[0]
        if n:
            problems.append(f"{n} dangling {table}.{column} -> {target}.{target_column}")
    for table, cols in sorted(unique.items()):
        src = _scan(build, manifest, table)
        if src is None:
            continue
        key = ", ".join(cols)
        n = con.execute(
            f"select coalesce(sum(c - 1), 0) from (select count(*) c from {src} group by {key} having count(*) > 1)"
        ).fetchone()[0]
        if n:
            problems.append(f"{n} duplicate {table}({key})")
    return problems


def main(argv: list[str]) -> int:
    found = builds(argv or ["demo-out"])
    if not found:
        print("error: no build found (a folder with manifest.json)", file=sys.stderr)
        return 2
    failed = 0
    for b in found:
        problems = check(b)
        failed += bool(problems)
        print(f"{b}: " + ("ok" if not problems else "; ".join(problems)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
