"""`mmdial features` never edits a published snapshot: the table goes to a side build that
training finds by itself, and writing into the snapshot is refused."""

from __future__ import annotations

import hashlib
import os

import pytest
from typer.testing import CliRunner

from pipelines.cli.main import app

pytestmark = pytest.mark.slow  # a small build and a CNN pass


def _tree(root: str) -> dict[str, str]:
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as fh:
                out[os.path.relpath(path, root)] = hashlib.sha256(fh.read()).hexdigest()
    return out


def test_features_of_a_published_build_go_to_a_side_build(tmp_path):
    from modeling.data.catalogue import ImageFeatures
    from modeling.data.features import ensure_features, published_snapshot
    from pipelines.core.engine import BuildOptions, run_build
    from pipelines.mmd.builder import MMDBuilder
    from pipelines.mmd.generator import GeneratorConfig, generate

    raw, out = str(tmp_path / "raw"), str(tmp_path / "build")
    generate(GeneratorConfig(out=raw, dialogs=30, seed=3, states_fraction=0.5, image_size=32))
    run_build(MMDBuilder(raw=raw), BuildOptions(out=out, workers=1, progress=False), command="test")
    snapshot = os.path.realpath(out)
    assert published_snapshot(out) and snapshot != os.path.abspath(out)
    before = _tree(snapshot)

    runner = CliRunner()
    res = runner.invoke(app, ["features", "--data", out, "--encoder", "resnet18_random", "--image-size", "32", "--out", out])
    assert res.exit_code == 2 and "side build" in res.output
    res = runner.invoke(app, ["features", "--data", out, "--encoder", "resnet18_random", "--image-size", "32", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    assert _tree(snapshot) == before  # the published snapshot is untouched, manifest and card included

    cfg_image = {"encoder": "resnet18_random", "image_size": 32, "weights": None, "features": "auto"}
    found = ensure_features(out, cfg_image, str(tmp_path / "run"))
    assert found.startswith(str(tmp_path / ".build.side")) and not os.path.exists(tmp_path / "run")
    feats = ImageFeatures.load(found)
    assert feats.matrix.shape[1] == 512 and len(feats.ids) > 0
    assert _tree(snapshot) == before
