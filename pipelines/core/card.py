"""The dataset card of a build: `OUT/README.md`, written after `manifest.json`.

Its YAML header is what Hugging Face `datasets` reads, so `load_dataset(OUT)` and
`load_dataset(OUT, "<table>")` work without any loading script: one config per table (the
manifest's tables with rows), `data_files` per split (globs over that split's shard files), a
default config, and each table's features derived from its schema (`images.data` as `Image()`, so
images decode). The body gives the source's citation and licence, the command line and versions
that made the build, the statistics tables of `pipelines.core.stats` and PNG plots.
"""

from __future__ import annotations

import json

import pyarrow as pa

from pipelines.core import io
from pipelines.core.splits import split_order
from pipelines.core.stats import BuildStats, compute, to_markdown
from schemas import get

CARD = "README.md"
PLOTS_DIR = "_card"
DEFAULT_CONFIG_ORDER = ("turns", "rec_samples", "images", "products")
#: columns that hold encoded image bytes: declared as `datasets` Image() features
IMAGE_COLUMNS = {("images", "data")}


# -- what each source is ----------------------------------------------------------------------
SOURCES = {
    "mmd": {
        "name": "MMD (Multimodal Dialogs) as MMD-v2",
        "language": ["en"],
        "task_categories": ["text-retrieval", "text-generation"],
        "license": "other",
        "license_name": "mmd-research-terms",
        "licence_note": "The MMD release's own terms (research use); the build adds no rights.",
        "citation": """@inproceedings{saha2018mmd,
  title = {Towards Building Large Scale Multimodal Domain-Aware Conversation Systems},
  author = {Saha, Amrita and Khapra, Mitesh M. and Sankaranarayanan, Karthik},
  booktitle = {Proceedings of the Thirty-Second AAAI Conference on Artificial Intelligence},
  pages = {696--704},
  year = {2018}
}""",
    },
    "simmc": {
        "name": "SIMMC 2.x as a recommendation task",
        "language": ["en"],
        "task_categories": ["text-retrieval", "text-generation"],
        "license": "cc-by-nc-sa-4.0",
        "licence_note": "SIMMC 2.0/2.1 are released under CC BY-NC-SA 4.0.",
        "citation": """@article{kottur2021simmc2,
  title = {SIMMC 2.0: A Task-oriented Dialog Dataset for Immersive Multimodal Conversations},
  author = {Kottur, Satwik and Moon, Seungwhan and Geramifard, Alborz and Damavandi, Babak},
  journal = {CoRR},
  volume = {abs/2104.08667},
  year = {2021}
}""",
    },
    "jddc": {
        "name": "JDDC 2.1",
        "language": ["zh"],
        "task_categories": ["text-generation", "summarization", "text-classification"],
        "license": "other",
        "license_name": "jddc-2.1-research-agreement",
        "licence_note": "JDDC 2.1 is released by JD AI Research for research use under its own agreement.",
        "citation": """@inproceedings{zhao2022jddc21,
  title = {JDDC 2.1: A Multimodal Chinese Dialogue Dataset with Joint Tasks of Query Rewriting,
           Response Generation, Discourse Parsing, and Summarization},
  author = {Zhao, Nan and Li, Haoran and Wu, Youzheng and He, Xiaodong},
  booktitle = {Proceedings of the 2022 Conference on Empirical Methods in Natural Language Processing},
  year = {2022}
}""",
    },
    "redial": {
        "name": "ReDial (for MESE)",
        "language": ["en"],
        "task_categories": ["text-generation", "text-retrieval"],
        "license": "cc-by-4.0",
        "licence_note": "ReDial is released under CC BY 4.0.",
        "citation": """@inproceedings{li2018redial,
  title = {Towards Deep Conversational Recommendations},
  author = {Li, Raymond and Kahou, Samira Ebrahimi and Schulz, Hannes and Michalski, Vincent and Charlin, Laurent and Pal, Chris},
  booktitle = {Advances in Neural Information Processing Systems 31},
  year = {2018}
}""",
    },
}
SOURCES["inspired"] = {
    "name": "INSPIRED (for MESE)",
    "language": ["en"],
    "task_categories": ["text-generation", "text-retrieval"],
    "license": "other",
    "license_name": "inspired-no-licence-stated",
    "licence_note": "The INSPIRED repository (sweetpeach/Inspired) states no licence; cite the paper.",
    "citation": """@inproceedings{hayati2020inspired,
  title = {INSPIRED: Toward Sociable Recommendation Dialog Systems},
  author = {Hayati, Shirley Anugrah and Kang, Dongyeop and Zhu, Qingxiaoyang and Shi, Weiyan and Yu, Zhou},
  booktitle = {Proceedings of the 2020 Conference on Empirical Methods in Natural Language Processing (EMNLP)},
  pages = {8142--8152},
  year = {2020}
}""",
    "published": [
        "| | dialogues | utterances | avg. turns | source |",
        "|---|---:|---:|---:|---|",
        "| INSPIRED | 1,001 | 35,811 | 10.73 | MESE (Yang et al.) Table 1 |",
        "| train / dev / test | 801 / 100 / 100 | | | INSPIRED README (test.tsv as published holds 99 distinct `dialog_id`s) |",
        "",
        "`utterances` are TSV rows (one `turns` row each here); `avg. turns` counts the source's `turn_id`",
        "(an exchange), which this build sums in `stats.source_turns` of the manifest.",
    ],
}
SOURCES["mmd-v3"] = {**SOURCES["mmd"], "name": "MMD 2.0 dialog states as MMD-v3"}
OTHER = {
    "name": "images (privacy-masked)",
    "language": [],
    "task_categories": ["image-classification"],
    "license": "other",
    "license_name": "source-licence",
    "licence_note": "The licence of the images' source.",
    "citation": "",
}
#: Hugging Face's split names where ours differ (the files keep ours; the card maps them)
HUB_SPLIT_NAMES = {"valid": "validation"}
#: tables a reader rarely wants first: listed after the data tables in the loading example
BOOKKEEPING_TABLES = ("dead_letters", "missing_images")
#: the Hub's size buckets, by the number of rows of the default config
SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M"))


# -- features in the YAML form `datasets` reads ------------------------------------------------
_DTYPES = {
    pa.string(): "string",
    pa.large_string(): "large_string",
    pa.int8(): "int8",
    pa.int16(): "int16",
    pa.int32(): "int32",
    pa.int64(): "int64",
    pa.bool_(): "bool",
    pa.float32(): "float32",
    pa.float64(): "float64",
    pa.binary(): "binary",
    pa.large_binary(): "large_binary",
}


def _feature_type(typ: pa.DataType):
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return {"list": _feature_type(typ.value_type)}
    if pa.types.is_struct(typ):
        return [{"name": typ.field(i).name, **_as_entry(typ.field(i).type)} for i in range(typ.num_fields)]
    return _DTYPES[typ]


def _as_entry(typ: pa.DataType) -> dict:
    t = _feature_type(typ)
    if isinstance(t, str):
        return {"dtype": t}
    if isinstance(t, list):
        return {"struct": t}
    return t


def features(table: str) -> list[dict]:
    """The table's columns as `datasets` YAML features (Image() for encoded image columns)."""
    out = []
    for f in get(table).schema:
        entry = {"dtype": "image"} if (table, f.name) in IMAGE_COLUMNS else _as_entry(f.type)
        out.append({"name": f.name, **entry})
    return out


# -- the card ------------------------------------------------------------------------------------
def configs(manifest: dict) -> list[dict]:
    """One `datasets` config per table with rows: its splits' file globs, relative to OUT."""
    tables = {t: [s for s, info in splits.items() if info.get("rows")] for t, splits in manifest["tables"].items()}
    tables = {t: s for t, s in tables.items() if s}
    default = next((t for t in DEFAULT_CONFIG_ORDER if t in tables), next(iter(sorted(tables)), None))
    out = []
    for table in sorted(tables):
        cfg = {"config_name": table}
        if table == default:
            cfg["default"] = True
        cfg["data_files"] = [
            {"split": HUB_SPLIT_NAMES.get(s, s), "path": f"{table}/{table}-{s}-*.parquet"} for s in split_order(tables[table])
        ]
        out.append(cfg)
    return out


def size_category(rows: int) -> str:
    return next((name for limit, name in SIZE_CATEGORIES if rows < limit), "n>10M")


def default_rows(manifest: dict, cfgs: list[dict]) -> int:
    default = next((c["config_name"] for c in cfgs if c.get("default")), None)
    return sum(info.get("rows", 0) for info in manifest["tables"].get(default, {}).values())


def loading_order(cfgs: list[dict]) -> list[str]:
    """Config names as a reader wants them: the default, the other data tables, bookkeeping last."""
    names = [c["config_name"] for c in cfgs]
    rank = {t: i for i, t in enumerate(DEFAULT_CONFIG_ORDER)}
    return sorted(
        names,
        key=lambda n: (
            not any(c.get("default") for c in cfgs if c["config_name"] == n),
            n in BOOKKEEPING_TABLES,
            rank.get(n, len(rank)),
            n,
        ),
    )


def _yaml(manifest: dict) -> str:
    """The YAML header as `huggingface_hub.DatasetCardData` writes it (the Hub's own key names)."""
    from huggingface_hub import DatasetCardData

    src = SOURCES.get(manifest.get("dataset"), OTHER)
    cfgs = configs(manifest)
    synthetic = manifest.get("provenance", {}).get("synthetic", False)
    data = DatasetCardData(
        pretty_name=src["name"] + (" (synthetic)" if synthetic else ""),
        language=src["language"] or None,
        license=src["license"],
        license_name=src.get("license_name") if src["license"] == "other" else None,
        task_categories=src["task_categories"],
        size_categories=[size_category(default_rows(manifest, cfgs))],
        tags=["mmdial", "multimodal", "dialogue"] + (["synthetic"] if synthetic else []),
        configs=cfgs,
        dataset_info=[{"config_name": c["config_name"], "features": features(c["config_name"])} for c in cfgs],
    )
    return data.to_yaml()


def provenance_note(manifest: dict) -> list[str]:
    """A warning at the top of a card built from a generated corpus: the citation is of the real
    data set, the rows are not."""
    prov = manifest.get("provenance", {})
    if not prov.get("synthetic"):
        return []
    cfg = ", ".join(f"{k}={v}" for k, v in sorted(prov.get("config", {}).items()))
    return [
        f"> **Synthetic data.** This build was made from a corpus written by mmdial's generator (`{prov.get('generator')}`;",
        f"> {cfg}), in the native format of the real data set. Its rows are not the real data set's; the",
        "> statistics below describe the generated corpus, and the citation and licence are the real data set's.",
        "",
    ]


def _text_privacy_section(manifest: dict) -> list[str]:
    """What the text stage (`--deidentify-text`) replaced, from the manifest's `text_privacy.*` stats."""
    st = manifest.get("stats") or {}
    if "text_privacy" not in (manifest.get("build_config") or {}) and not any(k.startswith("text_privacy.") for k in st):
        return []
    counts = {k.split(".", 1)[1]: int(v) for k, v in sorted(st.items()) if k.startswith("text_privacy.")}
    out = [
        "## Text de-identification",
        "",
        "Every free-text column (turn text and templated text, the context of rec samples, query rewrites, summaries) passed"
        " through mmdial's text stage. Personal values were replaced by typed placeholders"
        " numbered per dialogue (`[PHONE_1]` is the same number throughout one dialogue); brands, products, prices, model numbers"
        " and template markers were kept. Recogniser registry sha256:"
        f" `{((manifest.get('build_config') or {}).get('text_privacy') or {}).get('registry_sha256', '?')}`.",
        "",
        "| placeholder type | values replaced |",
        "|---|---|",
    ]
    out += [f"| `{t}` | {n:,} |" for t, n in counts.items()] or ["| (none) | 0 |"]
    return out + [""]


def render(manifest: dict, stats: BuildStats, plots: list[tuple[str, str]]) -> str:
    src = SOURCES.get(manifest.get("dataset"), OTHER)
    cfgs = configs(manifest)
    order = loading_order(cfgs)
    default = order[0] if order else ""
    lines = [
        "---",
        _yaml(manifest).rstrip(),
        "---",
        "",
        f"# {src['name']} (`{manifest.get('dataset')}`, built by mmdial {manifest.get('mmdial_version')})",
        "",
        *provenance_note(manifest),
        "Written by `mmdial` next to `manifest.json` (the complete record of the build: counts per table, split and file,",
        "dead letters, checksums of every source file). Table schemas: mmdial's `docs/schemas.md`.",
        "",
        "## Loading",
        "",
        "```python",
        "from datasets import load_dataset",
        f'ds = load_dataset("path/to/this/folder")  # the `{default}` table',
        *[f'{name} = load_dataset("path/to/this/folder", "{name}")' for name in order[1:4]],
        "```",
        "",
        *(
            ["Split `valid` is named `validation` in these configs, as the Hub names it (the files keep `valid`).", ""]
            if any(f["split"] == "validation" for c in cfgs for f in c["data_files"])
            else []
        ),
        "Every table folder holds only Parquet files (`<table>/<table>-<split>-<shard>-of-<n>.parquet`), so",
        "`polars.read_parquet('<table>/*.parquet')`, duckdb's `read_parquet('<table>/*.parquet')`, pandas, Spark",
        "and pyarrow datasets read them directly.",
        "",
        "| table | split | rows | files |",
        "|---|---|---|---|",
    ]
    for table, splits in manifest["tables"].items():
        for split in split_order(list(splits)):
            info = splits[split]
            lines.append(f"| `{table}` | {split} | {info['rows']:,} | {len(info['files'])} |")
    lines += ["", "## Statistics", ""]
    for t in stats.tables:
        lines += [f"### {t.title}", ""]
        if t.source:
            lines += [f"Rows as in {t.source}; the figures are this build's.", ""]
        lines += [to_markdown(t), ""]
        if t.note:
            lines += [t.note, ""]
    lines += _text_privacy_section(manifest)
    if manifest.get("privacy", {}).get("acceptance"):
        from pipelines.privacy.acceptance import card_lines

        lines += card_lines(manifest["privacy"]["acceptance"])
    if plots:
        lines += ["## Plots", ""]
        lines += [f"![{title}]({path})" for title, path in plots]
        lines.append("")
    if src.get("published"):
        lines += ["## The published data set", "", *src["published"], ""]
    run = manifest.get("run", {})
    lines += [
        "## How this build was made",
        "",
        "```",
        manifest.get("command") or "(built through the Python API)",
        "```",
        "",
        f"- mmdial {manifest.get('mmdial_version')}, Python {run.get('python', '?')}, Beam runner `{manifest.get('beam', {}).get('runner', '?')}`",
        f"- build configuration: `{json.dumps(manifest.get('build_config', {}), sort_keys=True)}`",
        f"- schema versions: {', '.join(f'`{t}` {v}' for t, v in manifest.get('schema_versions', {}).items())}",
        f"- sources: {manifest.get('sources', {}).get('files', 0):,} files, sha256 of the list `{manifest.get('sources', {}).get('sha256', '')}`",
        "",
        "## Licence",
        "",
        src["licence_note"],
        "",
    ]
    if src["citation"]:
        lines += ["## Citation", "", "```bibtex", src["citation"], "```", ""]
    return "\n".join(lines)


def plot_pngs(stats: BuildStats) -> dict[str, bytes]:
    """PNG charts where a person would rather look than read (pipelines.core.plots)."""
    from pipelines.core.plots import bars_png, histogram_png

    out: dict[str, bytes] = {}
    if stats.series.get("utterances_per_dialog"):
        out["utterances_per_dialogue.png"] = histogram_png(
            stats.series["utterances_per_dialog"], "Utterances per dialogue", "utterances", "dialogues"
        )
    if stats.series.get("utterance_length"):
        unit = stats.series.get("length_unit", ["words"])[0]
        out["utterance_length.png"] = histogram_png(stats.series["utterance_length"], "Utterance length", unit, "utterances")
    if stats.series.get("image_categories"):
        what = stats.series.get("categories_of", ["products"])[0]
        out["categories.png"] = bars_png(stats.series["image_categories"], f"Categories of {what}", what)
    return out


PLOT_TITLES = {
    "utterances_per_dialogue.png": "Utterances per dialogue",
    "utterance_length.png": "Utterance length",
    "categories.png": "Categories of images, else of products",
}


def write_card(out: str, manifest: dict) -> str:
    """Compute the statistics, write the plots under `_card/` and `README.md`; returns the card's path."""
    stats = compute(out, manifest)
    plots = []
    pngs = plot_pngs(stats)
    for name, data in sorted(pngs.items()):
        io.write_bytes_atomic(io.join(out, PLOTS_DIR, name), data)
        plots.append((PLOT_TITLES.get(name, name), f"{PLOTS_DIR}/{name}"))
    path = io.join(out, CARD)
    io.write_bytes_atomic(path, render(manifest, stats, plots).encode("utf-8"))
    return path
