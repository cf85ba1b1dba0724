"""Which annotation inputs carry dialogue text that was not de-identified.

`mmdial annotate push` of a dialogue-text flow shows turn text to crowd annotators; it refuses
inputs whose text did not pass the text stage unless `--allow-raw-text` is given. An input is
de-identified when it is (inside) a build whose manifest records the text stage
(`build_config.text_privacy`, written by `--deidentify-text`), or a Parquet file written by
`mmdial deidentify` (it has the `deidentified` column). Anything else is raw: its text columns
are read with the same recognisers, and any personal value refuses the push.
"""

from __future__ import annotations

import json
import os
from collections import Counter

from pipelines.privacy.text_files import RECORD_FIELD


def _manifest_of(path: str) -> dict | None:
    d = path if os.path.isdir(path) else os.path.dirname(path)
    for _ in range(3):  # the build folder, its table folder, a Parquet file in it
        m = os.path.join(d, "manifest.json")
        if os.path.exists(m):
            try:
                with open(m, encoding="utf-8") as fh:
                    return json.load(fh)
            except (OSError, ValueError):
                return None
        d = os.path.dirname(d)
    return None


def _deidentified(path: str) -> bool:
    manifest = _manifest_of(path)
    if manifest is not None:
        return bool((manifest.get("build_config") or {}).get("text_privacy"))
    if path.endswith(".parquet") and os.path.isfile(path):
        import pyarrow.parquet as pq

        return RECORD_FIELD in pq.read_schema(path).names
    return False


def raw_text_sources(paths: list[str]) -> list[str]:
    """The inputs whose dialogue text is not known to be de-identified."""
    return [p for p in paths if not _deidentified(p)]


def personal_values(tables: dict) -> Counter:
    """Personal values per placeholder type that the text stage would replace in the free-text
    columns of `tables` (name -> pyarrow Table)."""
    from pipelines.privacy.hooks import TEXT_COLUMNS
    from pipelines.privacy.text import TextDeidentifier

    deid = TextDeidentifier()
    found: Counter = Counter()
    for table, cols in TEXT_COLUMNS.items():
        t = tables.get(table)
        if t is None:
            continue
        for col in cols:
            if col not in t.column_names:
                continue
            for text in t.column(col).to_pylist():
                if text:
                    found.update(typ for _, _, typ, _ in deid.spans(text))
    return found


def refusal(paths: list[str], tables: dict) -> str | None:
    """The one-line refusal for `annotate push`, or None. Inputs de-identified by provenance pass;
    any other input passes only when the text stage finds no personal value in its text."""
    raw = raw_text_sources(paths)
    if not raw:
        return None
    found = personal_values(tables)
    if not found:
        return None
    what = ", ".join(f"{t} {n}" for t, n in sorted(found.items()))
    return (
        f"refusing to push dialogue text that was not de-identified ({what} personal values in {', '.join(raw)}):"
        " build with --deidentify-text (or run `mmdial deidentify`), or pass --allow-raw-text"
    )
