"""`mmdial inspect`: the manifest's summary plus a few rows per table.

A row is shown on one line with every value abbreviated (long strings cut, arrays shown by their
first items and length, bytes by their size), so that a table of 1,280-float feature vectors or
encoded images prints as a handful of lines, not thousands. Only the first file of a table is read.
"""

from __future__ import annotations

from pipelines.core.manifest import file_paths, read_manifest
from pipelines.core.splits import split_order
from pipelines.core.summary import render

MAX_CHARS = 80  # a string longer than this is cut
MAX_ITEMS = 4  # an array longer than this shows its first items and its length


def abbreviate(value, max_chars: int = MAX_CHARS, max_items: int = MAX_ITEMS):
    """A short stand-in for `value` that says what was left out."""
    if isinstance(value, str):
        return value if len(value) <= max_chars else f"{value[:max_chars]}… ({len(value):,} chars)"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value):,} bytes>"
    if isinstance(value, dict):
        return {k: abbreviate(v, max_chars, max_items) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        head = [abbreviate(v, max_chars, max_items) for v in value[:max_items]]
        return head if len(value) <= max_items else [*head, f"… ({len(value):,} items)"]
    if isinstance(value, float):
        return round(value, 6)
    return value


def format_row(row: dict) -> str:
    return "  ".join(f"{k}={abbreviate(v)!r}" for k, v in row.items())


def sample_rows(out: str, split_info: dict, rows: int) -> list[dict]:
    """The first `rows` rows of a table split, read from its first file only."""
    import pyarrow.parquet as pq
    from apache_beam.io.filesystems import FileSystems

    from pipelines.core import io
    from pipelines.core.publish import resolve

    paths = file_paths(split_info)
    if not paths:
        return []
    path = paths[0] if "://" in paths[0] or paths[0].startswith("/") else io.join(resolve(out), paths[0])
    with FileSystems.open(path, compression_type="uncompressed") as fh:
        pf = pq.ParquetFile(fh)
        batch = next(pf.iter_batches(batch_size=rows), None)
        return [] if batch is None else batch.to_pylist()[:rows]


def show(out: str, rows: int, console) -> None:
    manifest = read_manifest(out)
    render(manifest, console)
    if rows <= 0:
        return
    for table, splits in manifest["tables"].items():
        total = sum(info.get("rows", 0) for info in splits.values())
        console.print(f"\n[bold]{table}[/bold] ({total:,} row{'' if total == 1 else 's'})")
        split = next((s for s in split_order(list(splits)) if splits[s].get("rows")), None)
        info = splits.get(split)
        if info is None:
            continue
        for row in sample_rows(out, info, rows):
            console.print(f"[{split}] " + format_row(row), soft_wrap=True, markup=False, highlight=False)
