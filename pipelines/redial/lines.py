"""Cut a line-oriented file (JSON Lines, one record a line) into byte ranges that end on newlines.

Why: a single 30 MB (or 30 GB) jsonl file must still spread over many shards, and every dead
letter must name its line. Planning streams the file once, in blocks, counting newlines, so each
range knows the 0-based number of the line it starts at (`WorkUnit.key`) without a second pass
and without holding the file in memory. Ranges cover the file exactly, in order, with no gap or
overlap; a last line without a newline belongs to the last range.
"""

from __future__ import annotations

from apache_beam.io.filesystems import FileSystems

BLOCK_BYTES = 8 * 1024 * 1024


def line_ranges(path: str, unit_bytes: int, block_bytes: int = BLOCK_BYTES) -> list[tuple[int, int, int]]:
    """(start, end, lines before start) for ranges of about `unit_bytes`, each cut after a newline."""
    unit_bytes = max(1, unit_bytes)
    ranges: list[tuple[int, int, int]] = []
    start = start_line = lines = pos = 0
    with FileSystems.open(path, compression_type="uncompressed") as fh:
        while True:
            buf = fh.read(block_bytes)
            if not buf:
                break
            i = 0
            while True:
                # first newline at or after the target end of the current range
                j = buf.find(b"\n", max(i, start + unit_bytes - 1 - pos))
                if j < 0:
                    lines += buf.count(b"\n", i)
                    break
                lines += buf.count(b"\n", i, j + 1)
                end = pos + j + 1
                ranges.append((start, end, start_line))
                start, start_line, i = end, lines, j + 1
            pos += len(buf)
    if pos > start:
        ranges.append((start, pos, start_line))
    return ranges
