"""Render docs/schemas.md from the registry, so the documentation cannot drift from the code.

`python -m schemas.docs > docs/schemas.md` regenerates it; tests/test_schemas.py checks it.
"""

from __future__ import annotations

from schemas.registry import all_tables


def render() -> str:
    out = [
        "# mmdial tables",
        "",
        "Generated from `schemas/` by `python -m schemas.docs > docs/schemas.md`; a test fails when",
        "this file and the code disagree. Every Parquet file carries its table name and schema version",
        "in the key `mmdial.schema` of its metadata, and `manifest.json` lists the versions too.",
        "",
    ]
    for table in all_tables().values():
        out += [f"## `{table.name}` (version {table.version}, {table.group})", "", table.doc, ""]
        if table.sort_key:
            out += [f"Rows are sorted by {', '.join(f'`{k}`' for k in table.sort_key)}.", ""]
        out += ["| column | type | nullable | meaning |", "|---|---|---|---|"]
        for col in table.columns:
            doc = col.doc.replace("|", "\\|")
            out.append(f"| `{col.name}` | `{col.type}` | {'yes' if col.nullable else 'no'} | {doc} |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(render(), end="")
