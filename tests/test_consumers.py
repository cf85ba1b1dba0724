"""Every builder's output, read as its consumers read it: Hugging Face `datasets` (one line, every
table, images as PIL images), polars and duckdb globs over each table folder; no 0-row files; the
dataset card with its statistics and plots; `mmdial stats`."""

from __future__ import annotations

import json
import os

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pipelines.core.card import HUB_SPLIT_NAMES
from tests.consumer_builds import BUILDERS, build


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    root = tmp_path_factory.mktemp("consumers")
    out = {}
    for name in BUILDERS:
        out[name] = (root / name, build(name, root, root / name))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILDERS)
def test_every_table_is_in_the_manifest_with_per_file_rows_and_no_empty_file(builds, name):
    out, m = builds[name]
    listed = {}
    for table, splits in m["tables"].items():
        for split, info in splits.items():
            assert info["rows"] == sum(f["rows"] for f in info["files"]) > 0, (table, split)
            assert info["bytes"] == sum(f["bytes"] for f in info["files"])
            for f in info["files"]:
                listed[f["path"]] = f
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*.parquet")}
    assert on_disk == set(listed), "every Parquet file is listed in the manifest and every listed file exists"
    for path, f in listed.items():
        meta = pq.ParquetFile(out / path).metadata
        assert meta.num_rows == f["rows"] > 0 and os.path.getsize(out / path) == f["bytes"], path
    for table in m["tables"]:  # nothing but that table's Parquet files in a table folder
        assert {p.name.split("-")[0] for p in (out / table).iterdir()} == {table}, table


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILDERS)
def test_hugging_face_datasets_loads_the_build_and_every_table(builds, name, tmp_path, monkeypatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf"))
    out, m = builds[name]
    default = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "hf"))
    assert sum(len(d) for d in default.values()) > 0
    for table, splits in m["tables"].items():
        ds = datasets.load_dataset(str(out), table, cache_dir=str(tmp_path / "hf"))
        want = {HUB_SPLIT_NAMES.get(s, s): info["rows"] for s, info in splits.items()}
        assert {s: len(d) for s, d in ds.items()} == want, table
        if table == "images":
            from PIL import Image

            row = next(iter(ds.values()))[0]
            assert isinstance(row["data"], Image.Image) and row["data"].size == (row["width"], row["height"])


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILDERS)
def test_polars_and_duckdb_read_every_table_folder_by_glob(builds, name):
    import duckdb
    import polars as pl

    out, m = builds[name]
    for table, splits in m["tables"].items():
        want = sum(info["rows"] for info in splits.values())
        glob = str(out / table / "*.parquet")
        assert pl.read_parquet(glob).height == want, table
        assert duckdb.sql(f"select count(*) from read_parquet('{glob}')").fetchall()[0][0] == want, table


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILDERS)
def test_card_has_header_statistics_and_plots(builds, name):
    import yaml

    out, m = builds[name]
    text = (out / "README.md").read_text(encoding="utf-8")
    header = yaml.safe_load(text.split("---\n")[1])
    assert {c["config_name"] for c in header["configs"]} == set(m["tables"])
    assert sum(1 for c in header["configs"] if c.get("default")) == 1
    assert "## Statistics" in text and "## Licence" in text and (m["command"] or "Python API") in text
    for line in text.splitlines():
        if line.startswith("!["):
            assert (out / line.rsplit("(", 1)[1].rstrip(")")).stat().st_size > 1000
    if name != "mask":
        assert "### Dialogues" in text and "](_card/utterances_per_dialogue.png)" in text
        dialogs = sum(s["rows"] for s in m["tables"]["dialogs"].values())
        assert f"| # Dialogues | {dialogs:,} |" in text


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILDERS)
def test_card_header_has_the_hub_keys_and_says_the_data_is_synthetic(builds, name):
    """The Hub's metadata keys, `validation` for our `valid`, bookkeeping tables last in the loading
    example, and a card of a generated corpus that says so (the citation is of the real data set)."""
    import yaml

    out, m = builds[name]
    text = (out / "README.md").read_text(encoding="utf-8")
    header = yaml.safe_load(text.split("---\n")[1])
    assert header["task_categories"] and header["size_categories"]
    assert header.get("language") == (["zh"] if name == "jddc" else ["en"])
    assert header["license"] != "other" or header["license_name"]
    splits = {f["split"] for c in header["configs"] for f in c["data_files"]}
    assert "valid" not in splits and ("validation" in splits) == any("valid" in s for s in m["tables"].get("turns", {}))
    assert m["provenance"]["synthetic"] and "synthetic" in header["tags"] and "**Synthetic data.**" in text
    loading = text.split("## Loading")[1].split("```")[1]
    assert "dead_letters" not in loading.splitlines()[2], "the first configs shown are data tables, not bookkeeping"


@pytest.mark.slow
def test_jddc_card_has_the_papers_tables(builds):
    out, m = builds["jddc"]
    text = (out / "README.md").read_text(encoding="utf-8")
    for title in ("Knowledge base", "Discourse parsing", "Discourse relations", "Image categories", "Annotation layers"):
        assert f"### {title}" in text, title
    relations = sum(s["rows"] for s in m["tables"]["jddc_discourse"].values())
    assert f"| # Discourse Relations | {relations:,} |" in text
    triples = sum(s["rows"] for s in m["tables"]["jddc_kb_triples"].values())
    assert f"| Triple | {triples:,} |" in text


@pytest.mark.slow
def test_stats_command_prints_the_same_tables(builds):
    from pipelines.cli.main import app

    out, m = builds["mmd"]
    res = CliRunner().invoke(app, ["stats", str(out), "--json"])
    assert res.exit_code == 0, res.output
    tables = {t["title"]: t for t in json.loads(res.output)["tables"]}
    dialogs = tables["Dialogues"]
    assert dialogs["rows"][0][1] == sum(s["rows"] for s in m["tables"]["dialogs"].values())
    assert dialogs["rows"][1][1] == sum(s["rows"] for s in m["tables"]["turns"].values())
    res = CliRunner().invoke(app, ["stats", str(out)])
    assert res.exit_code == 0 and "Recommendation samples" in res.output
    assert CliRunner().invoke(app, ["stats", str(out / "nope")]).exit_code == 2


@pytest.mark.slow
def test_image_features_become_a_table_of_the_build(builds, tmp_path, monkeypatch):
    """`mmdial features` on a build: a table folder with only table files, in the manifest and the
    card, so `load_dataset(OUT, "image_features")` and globs work like for every other table."""
    import shutil

    import datasets
    import duckdb
    import polars as pl

    from modeling.data.features import compute_features

    src, _ = builds["mmd"]
    out = tmp_path / "build"
    shutil.copytree(src.resolve(), out)
    summary = compute_features(str(out), None, "resnet18_random", image_size=32, batch_size=8)
    m = json.loads((out / "manifest.json").read_text())
    rows = m["tables"]["image_features"]["shared"]["rows"]
    assert rows == summary["features_out"] > 0 and m["image_features"]["encoder"] == "resnet18_random"
    assert [p.name for p in (out / "image_features").iterdir()] == ["image_features-shared-00000-of-00001.parquet"]
    assert pl.read_parquet(str(out / "image_features" / "*.parquet")).height == rows
    assert duckdb.sql(f"select count(*) from read_parquet('{out}/image_features/*.parquet')").fetchall()[0][0] == rows
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf"))
    ds = datasets.load_dataset(str(out), "image_features", cache_dir=str(tmp_path / "hf"))
    assert len(ds["shared"]) == rows and len(ds["shared"][0]["feature"]) == 512
