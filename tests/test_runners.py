"""Runner-agnostic: the same graph is built for remote runners without running it."""

from __future__ import annotations

import json
import subprocess
import sys

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.core.engine import BuildOptions, construct, make_plan
from pipelines.core.options import make_options, make_runner
from pipelines.mmd.builder import MMDBuilder
from pipelines.mmd.generator import GeneratorConfig, generate
from tests.conftest import REPO

REMOTE = {
    "FlinkRunner": ["--flink_master=localhost:8081", "--environment_type=LOOPBACK"],
    "SparkRunner": ["--spark_master_url=spark://localhost:7077"],
    "DataflowRunner": ["--project=demo-project", "--region=europe-west1", "--temp_location=gs://demo-bucket/tmp"],
}


@pytest.mark.parametrize("runner", sorted(REMOTE))
def test_graph_constructs_for_remote_runners(runner, tmp_path):
    if runner == "DataflowRunner":
        pytest.importorskip("apache_beam.runners.dataflow.dataflow_runner")
    raw = tmp_path / "raw"
    generate(GeneratorConfig(out=str(raw), dialogs=10, images=False, states_fraction=0))
    opts = BuildOptions(out=str(tmp_path / "out"), runner=runner, beam_args=REMOTE[runner])
    builder = MMDBuilder(raw=str(raw))
    plan = make_plan(builder, opts)
    options = make_options(runner, 0, REMOTE[runner])
    assert options.get_all_options()["runner"] == runner
    assert make_runner(runner) is None
    p = beam.Pipeline(options=PipelineOptions([]))  # graph only: nothing is submitted
    construct(p, builder, [(i, plan.fingerprints[i]) for i in plan.todo], len(plan.shards), opts.out, [], f"{opts.out}/_shards/plan.json")
    names = {t.unique_name for t in p.to_runner_api().components.transforms.values()}
    assert {"Shards", "Spread", "BuildShard", "JoinReferences", "WriteReferences"} <= names
    assert not (tmp_path / "out").exists(), "constructing the graph must not write output"


def test_local_runner_is_explicit_fnapi_with_our_worker_processes():
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    assert isinstance(make_runner("DirectRunner"), FnApiRunner)  # never Beam's Prism hand-off
    runner = make_runner("FnApiRunner", workers=2)
    assert isinstance(runner, FnApiRunner)
    env = runner._default_environment  # the command Beam starts once per worker
    assert "-m pipelines.core.worker" in env.command_string
    opts = make_options("FnApiRunner", 2, []).get_all_options()
    assert opts["direct_num_workers"] == 2 and opts["direct_running_mode"] == "in_memory"


@pytest.mark.slow  # over 5 s on an idle 2-core machine (docs/testing.md)
def test_worker_processes_keep_stderr_quiet(tmp_path):
    """A two-process local build prints nothing but what mmdial prints (no Beam start-up logs)."""
    raw = tmp_path / "raw"
    generate(GeneratorConfig(out=str(raw), dialogs=200, images=False, states_fraction=0, rounds=(8, 10)))
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli.main",
            "build",
            "mmd",
            "--raw",
            str(raw),
            "--out",
            str(tmp_path / "out"),
            "--workers",
            "2",
            "--shard-mib",
            "1",  # about 2 MiB of dialogs: two shards, so both worker processes start
            "--quiet",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == "" and out.stderr == "", (out.stdout, out.stderr)
    assert (tmp_path / "out" / "manifest.json").exists()
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["num_shards"] >= 2


def test_local_builds_start_no_more_worker_processes_than_shards_to_build():
    from pipelines.core.engine import BuildOptions, _local_workers

    assert _local_workers(BuildOptions(out="o", workers=4), 1).workers == 1  # in-process: no worker start-up
    assert _local_workers(BuildOptions(out="o", workers=2), 10).workers == 2
    assert _local_workers(BuildOptions(out="o", workers=0), 0).workers == 1
    assert _local_workers(BuildOptions(out="o", runner="dask", workers=4), 1).workers == 4  # a cluster is not ours to size


def test_help_is_instant_and_imports_nothing_heavy():
    code = (
        "import sys; from typer.testing import CliRunner; from pipelines.cli.main import app; "
        "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0, r.output; "
        "heavy = [m for m in ('apache_beam', 'torch', 'transformers', 'rapidocr', 'cv2', 'pyarrow') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"heavy modules imported by --help: {out.stdout}"
