"""Render docs/schemas.md from the registry, so the documentation cannot drift from the code.

`python -m schemas.docs > docs/schemas.md` regenerates it; tests/test_schemas.py checks it.
"""

from __future__ import annotations

from schemas.registry import all_tables

#: what a reader must know about each schema version bump, newest first
CHANGES = (
    (
        "version 2 of images, products, dialog_states, dead_letters, jddc_kb_triples, "
        "jddc_image_categories, privacy_quarantine, privacy_candidates, image_features",
        [
            "`products.attributes` and `dialog_states.slots` are `list<struct<key, value>>` (was "
            "`map<string, string>`, which Hugging Face `datasets` cannot load); Python readers turn a "
            "cell into a dict with `schemas.core.pairs_to_dict`.",
            "Tables that are not dialog-scoped use the split `shared` (was `all`, a name `datasets` reserves) "
            "in their `split` column and file names (`images/images-shared-00000-of-00004.parquet`).",
            "`image_id` has one definition (`images.image_id`: sha256 of the source's unmasked bytes); the other tables refer to it.",
            "Builds write no 0-row files: a split with no rows in a shard has no file there, and a table or "
            "split with no rows at all has none (SIMMC's empty `mini`, `dialog_states` without `--states`).",
        ],
    ),
)


def render() -> str:
    out = [
        "# mmdial tables",
        "",
        "Generated from `schemas/` by `python -m schemas.docs > docs/schemas.md`; a test fails when",
        "this file and the code disagree. Every Parquet file carries its table name and schema version",
        "in the key `mmdial.schema` of its metadata, and `manifest.json` lists the versions too.",
        "",
        "## Changes",
        "",
    ]
    for title, items in CHANGES:
        out += [f"- {title}:"] + [f"  - {item}" for item in items]
    out.append("")
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
