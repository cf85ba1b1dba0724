"""Masked-image acceptance check without a server: which images are sampled, and how they are grouped."""

from __future__ import annotations

import pytest

from annotation import acceptance, qc
from annotation.projects import SyncError
from schemas import get


def _images(statuses: list[str]) -> dict:
    rows = [
        {
            "dataset": "x",
            "image_id": f"{(7919 * i) % 10007:064x}",
            "split": "shared",
            "source_key": f"k{i}",
            "uri": None,
            "data": b"",
            "width": 1,
            "height": 1,
            "format": "png",
            "source": None,
            "privacy_status": s,
            "privacy_audit": None,
        }
        for i, s in enumerate(statuses)
    ]
    return {"images": get("images").to_arrow(rows)}


def test_only_auto_masked_images_in_a_stable_order_and_groups():
    statuses = ["masked"] * 230 + ["manual_masked", "clean", "unchecked"] * 5
    tables = _images(statuses)
    ids = acceptance.masked_ids(tables)
    assert len(ids) == 230 and ids == sorted(ids)
    table = tables["images"]
    reordered = {"images": table.take(list(reversed(range(table.num_rows))))}
    assert acceptance.masked_ids(reordered) == ids  # the row order of the build does not matter
    groups = acceptance.groups_of(ids, 100)
    assert [len(g) for g in groups.values()] == [100, 100, 30] and sum(groups.values(), []) == ids
    # the draw is qc's: 10% of each group, the partial one included, the same for the same seed
    sizes = [len(qc.draw(g, 0, n, 1)) for n, g in groups.items()]
    assert sizes == [10, 10, 3] and qc.draw(groups[1], 0, 1, 1) == qc.draw(list(reversed(groups[1])), 0, 1, 1)
    assert qc.draw(groups[1], 0, 1, 1) != qc.draw(groups[1], 1, 1, 1)
    assert acceptance.ids_digest(ids) == acceptance.ids_digest(list(reversed(ids)))


def test_no_masked_images_or_no_status_is_a_clear_error():
    with pytest.raises(SyncError, match="no images table with privacy_status"):
        acceptance.masked_ids({})
    assert acceptance.masked_ids(_images(["unchecked", "clean"])) == []


def test_sample_masked_is_for_the_privacy_check_flow_only(tmp_path):
    from typer.testing import CliRunner

    from pipelines.cli.main import app

    pq_dir = tmp_path / "b" / "images"
    pq_dir.mkdir(parents=True)
    import pyarrow.parquet as pq

    pq.write_table(_images(["masked"])["images"], pq_dir / "images-shared-00000-of-00001.parquet")
    res = CliRunner().invoke(app, ["annotate", "push", "summary", "--from", str(tmp_path / "b"), "--project", "abc", "--sample-masked"])
    assert (
        res.exit_code == 2
        and res.stderr.strip() == "error: --sample-masked goes with the privacy_check flow only, without --candidates or --only"
    )
