"""`mmdial inspect`: the manifest's summary plus a few rows per table."""

from __future__ import annotations

from pipelines.core.manifest import read_manifest
from pipelines.core.parquet import read_table
from pipelines.core.summary import render


def show(out: str, rows: int, console) -> None:
    manifest = read_manifest(out)
    render(manifest, console)
    if rows <= 0:
        return
    for table in manifest["tables"]:
        arrow = read_table(out, table)
        cols = [c for c in arrow.column_names if c != "data"]
        console.print(f"\n[bold]{table}[/bold] ({arrow.num_rows:,} rows)")
        for row in arrow.select(cols).slice(0, rows).to_pylist():
            console.print({k: (v[:120] + "..." if isinstance(v, str) and len(v) > 120 else v) for k, v in row.items()})
