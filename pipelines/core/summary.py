"""The table printed at the end of a build (and by `mmdial inspect`)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table as RichTable


def render(manifest: dict, console: Console | None = None) -> None:
    console = console or Console()
    table = RichTable(title=f"mmdial build: {manifest['dataset']}  ({manifest['num_shards']} shards)")
    table.add_column("table")
    table.add_column("split")
    table.add_column("rows", justify="right")
    table.add_column("files", justify="right")
    table.add_column("MiB", justify="right")
    for name, splits in manifest["tables"].items():
        for split, info in splits.items():
            table.add_row(name, split, f"{info['rows']:,}", str(len(info["files"])), f"{info['bytes'] / 2**20:.2f}")
    console.print(table)
    stages = RichTable(title="records per stage (in = out + dead + filtered)")
    for col in ("stage", "in", "out", "dead", "filtered"):
        stages.add_column(col, justify="right" if col != "stage" else "left")
    for stage, c in manifest["stages"].items():
        stages.add_row(stage, *(f"{c[k]:,}" for k in ("in", "out", "dead", "filtered")))
    console.print(stages)
    dl = manifest["dead_letters"]
    run = manifest.get("run", {})
    line = (
        f"dead letters: {dl['count']:,} (ratio {dl['ratio']:.4f})   counts reconcile: "
        f"{'yes' if manifest['counts_reconcile'] else 'NO'}   time: {run.get('seconds', 0):.1f}s "
        f"({run.get('shards_built', 0)} shards built, {run.get('shards_resumed', 0)} resumed)"
    )
    console.print(line, soft_wrap=True)
    if run.get("phases"):
        from pipelines.core.phases import describe

        console.print(f"phases: {describe(run['phases'])}", soft_wrap=True)
    for key, value in manifest.get("stats", {}).items():
        console.print(f"  {key}: {value:,.0f}" if float(value).is_integer() else f"  {key}: {value:,.3f}")
