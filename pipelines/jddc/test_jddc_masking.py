"""JDDC with --mask-images, end to end with the real offline OCR engine.

The generator renders fake phone, order and waybill numbers into the customers' screenshots; after
the build no such string may be readable by a second OCR pass over the published bytes, while the
same pass finds them in the originals (so the check can fail).
"""

from __future__ import annotations

import json
import re

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from pipelines.cli.main import app
from pipelines.core.parquet import read_table
from pipelines.jddc.generator import GeneratorConfig, generate

PII = re.compile(r"1[3-9]\d{9}|\d{10,}")  # mainland mobiles; order and waybill numbers (long digit runs)


@pytest.fixture(scope="module")
def engine():
    from pipelines.privacy.engines import RapidOCREngine

    return RapidOCREngine()


def _readable(engine, data: bytes) -> set[str]:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    text = "".join(line.text.replace(" ", "") for line in engine.ocr(image))
    return set(PII.findall(text))


@pytest.mark.slow  # over 5 s on an idle 2-core machine (docs/testing.md)
def test_mask_images_leaves_no_readable_pii(tmp_path, engine):
    raw = tmp_path / "raw"
    generate(GeneratorConfig(out=str(raw), sessions=4, seed=2))
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["build", "jddc", "--raw", str(raw), "--out", str(out), "--mask-images", "--workers", "1", "--quiet"])
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts_reconcile"] and manifest["build_config"]["privacy"]
    published = read_table(str(out), "images").to_pylist()
    quarantined = read_table(str(out), "privacy_quarantine").num_rows
    originals = {p.name: p.read_bytes() for p in (raw / "images").glob("*.jpg")}
    assert len(published) + quarantined == len(originals)
    planted_seen, residue = 0, {}
    for row in published:
        assert row["privacy_audit"], "every published image carries its audit record"
        assert row["privacy_status"] in ("masked", "unchecked")
        planted_seen += len(_readable(engine, originals[row["source_key"]]))
        left = _readable(engine, row["data"])
        if left:
            residue[row["source_key"]] = left
    assert planted_seen > 0, "the originals should show PII to the same OCR pass"
    assert residue == {}, f"PII still readable after masking: {residue}"
