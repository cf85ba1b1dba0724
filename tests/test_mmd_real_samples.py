"""The real MMD excerpts (the authors' HTML renderings, transcribed) as far as they go.

They carry text, speakers and real product JPEGs but no false images, types or URLs (see
../shared/samples/mmd/SOURCE.md), so this checks text fidelity and real image resolution, and that
no recommendation sample is invented where the source has no negatives.
"""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
from PIL import Image

from pipelines.core.parquet import read_table
from pipelines.mmd.builder import MMDBuilder
from tests.conftest import build


@pytest.fixture(scope="module")
def real_build(shared_samples, tmp_path_factory):
    src = shared_samples / "mmd"
    raw = tmp_path_factory.mktemp("real-mmd")
    images = raw / "images"
    images.mkdir()
    transcribed = {}
    for path in sorted((src / "derived").glob("*.transcribed.json")):
        doc = json.loads(path.read_text())
        did = doc["dialog_file"]
        transcribed[did] = doc["turns"]
        native = [
            {"speaker": {"SHOPPER": "user", "AGENT": "system"}[t["html_role"]], "utterance": {"nlg": t["text"], "images": t["image_files"]}}
            for t in doc["turns"]
        ]
        (raw / "test").mkdir(exist_ok=True)
        (raw / "test" / f"{did}.json").write_text(json.dumps(native))
        for jpg in (src / "example_dialogs" / f"{did}.json_files").glob("*.jpg"):
            copy = images / jpg.name  # a copy in the test's folder: links out of --images are refused
            if not copy.exists():
                shutil.copyfile(jpg, copy)
    out = tmp_path_factory.mktemp("real-mmd-out")
    return out, build(MMDBuilder(raw=str(raw), images_dir=str(images)), out), transcribed, images


def test_real_dialogs_keep_their_text_and_speakers(real_build):
    out, manifest, transcribed, _ = real_build
    assert manifest["dead_letters"]["count"] == 0
    turns = read_table(str(out), "turns").to_pylist()
    for did, src_turns in transcribed.items():
        mine = [t for t in turns if t["dialog_id"] == did]
        assert [t["text"] for t in mine] == [t["text"].strip() for t in src_turns]
        assert [t["speaker"] for t in mine] == [{"SHOPPER": "user", "AGENT": "system"}[t["html_role"]] for t in src_turns]
    assert sum(s["rows"] for s in manifest["tables"].get("rec_samples", {}).values()) == 0  # no false images in the source


def test_real_images_resolve_by_content_hash(real_build):
    out, manifest, transcribed, images = real_build
    refs = sum(len(t["image_files"]) for turns in transcribed.values() for t in turns)
    assert manifest["stats"]["turn_image_refs"] == refs > 0
    present = {p.name for p in images.iterdir()}
    missing = sum(1 for turns in transcribed.values() for t in turns for f in t["image_files"] if f not in present)
    assert manifest["stats"].get("turn_images_missing", 0) == missing
    rows = {r["source_key"]: r for r in read_table(str(out), "images").to_pylist()}
    for name, row in rows.items():
        data = (images / name).read_bytes()
        assert row["image_id"] == hashlib.sha256(data).hexdigest()
        with Image.open(images / name) as im:
            assert (row["width"], row["height"]) == im.size
