"""Runner sessions: what a build needs around `Pipeline.run` for the runner it was given.

`--runner dask` (or Beam's full name `apache_beam.runners.dask.dask_runner.DaskRunner`) runs the
build on a `dask.distributed` cluster: the one at `--dask_client_address`, or else a
`LocalCluster` started here with `--workers` processes (one thread each: DoFns hold the GIL) and
closed when the build ends. Every other runner needs nothing around the run.
"""

from __future__ import annotations

import contextlib
import os

DASK_RUNNER = "apache_beam.runners.dask.dask_runner.DaskRunner"
DASK_NAMES = {"dask", "daskrunner", DASK_RUNNER.lower()}


def is_dask(runner: str) -> bool:
    return runner.lower() in DASK_NAMES


def _has_address(beam_args: list[str]) -> bool:
    return any(a.split("=", 1)[0] in ("--dask_client_address", "--dask_scheduler_file") for a in beam_args)


@contextlib.contextmanager
def dask_session(workers: int, beam_args: list[str]):
    """Yield the Beam arguments that point the DaskRunner at a cluster (starting a local one when
    none is given), and close what was opened here afterwards."""
    if _has_address(beam_args):
        yield list(beam_args)
        return
    import logging

    from distributed import LocalCluster

    for name in list(logging.root.manager.loggerDict):  # distributed sets its loggers to INFO itself
        if name.startswith("distributed"):
            logging.getLogger(name).setLevel(logging.WARNING)
    n = workers or os.cpu_count() or 1
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        yield [*beam_args, f"--dask_client_address={cluster.scheduler_address}"]
    finally:
        cluster.close()


def finish(result) -> None:
    """Release what a finished run holds (the DaskRunner leaves its client connected)."""
    client = getattr(result, "client", None)
    if client is not None:
        client.close()
