"""Every builder on a real distributed engine: Beam's DaskRunner on a 2-worker `dask.distributed`
LocalCluster (worker processes, as on a real cluster) writes byte-identical tables and the same
manifest content as the local runner."""

from __future__ import annotations

import pytest

from tests.consumer_builds import BUILDERS, build, parquet_files

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c.scheduler_address


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILDERS)
def test_dask_build_is_byte_identical_to_the_local_build(cluster, name, tmp_path):
    from pipelines.core.manifest import content_view

    local = build(name, tmp_path, tmp_path / "local", workers=1)
    dask = build(name, tmp_path, tmp_path / "dask", runner="dask", beam_args=[f"--dask_client_address={cluster}"])
    assert dask["beam"]["runner"] == "dask" and dask["status"] == "ok"
    assert content_view(dask) == content_view(local)
    files = parquet_files(tmp_path / "local")
    assert len(files) > 3 and parquet_files(tmp_path / "dask") == files


@pytest.mark.slow
def test_runner_dask_starts_and_stops_its_own_local_cluster(tmp_path):
    """`--runner dask` without an address: a LocalCluster of --workers processes, closed afterwards."""
    import threading

    before = threading.active_count()
    m = build("redial", tmp_path, tmp_path / "out", runner="dask", workers=2)
    assert m["status"] == "ok" and m["beam"]["options"]["address"].startswith(
        "tcp://"
    )  # DaskOptions stores --dask_client_address as `address`
    assert threading.active_count() <= before + 1  # the cluster's threads are gone with it


def test_dask_friendly_name_maps_to_beams_dask_runner():
    from apache_beam.runners.dask.dask_runner import DaskRunner

    from pipelines.core.options import make_options, make_runner
    from pipelines.core.runners import DASK_RUNNER, is_dask

    assert is_dask("dask") and is_dask(DASK_RUNNER) and not is_dask("FlinkRunner")
    assert isinstance(make_runner("dask"), DaskRunner)
    assert make_options("dask", 2, ["--dask_client_address=tcp://h:8786"]).get_all_options()["runner"] == DASK_RUNNER
