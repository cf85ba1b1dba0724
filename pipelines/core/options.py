"""Beam options and runner choice.

Local runs always use an explicit FnApiRunner: Beam's DirectRunner may hand a pipeline to the
Prism runner, which downloads a binary at run time. `--runner DirectRunner` is therefore routed to
the FnApiRunner too. `--runner dask` is Beam's DaskRunner (see pipelines.core.runners). Any other runner name (DataflowRunner, FlinkRunner, SparkRunner, ...) is
passed to Beam unchanged together with the user's standard Beam options.
"""

from __future__ import annotations

import os

LOCAL_RUNNERS = {"fnapirunner", "directrunner", "local"}


def is_local(runner: str) -> bool:
    return runner.lower() in LOCAL_RUNNERS


def make_options(runner: str, workers: int, beam_args: list[str]):
    from apache_beam.options.pipeline_options import PipelineOptions

    args = list(beam_args)
    if is_local(runner):
        n = workers or os.cpu_count() or 1
        # one worker process per core, started by make_runner's environment (not Beam's default
        # multi_processing mode, which would replace that environment with its own command)
        args += [f"--direct_num_workers={n}", "--direct_running_mode=in_memory"]
    else:
        from pipelines.core.runners import DASK_RUNNER, is_dask

        args += [f"--runner={DASK_RUNNER if is_dask(runner) else runner}"]
    return PipelineOptions(args)


def make_runner(runner: str, workers: int = 0):
    """An explicit FnApiRunner for local runs: in-process for one worker, else one process per
    worker running `pipelines.core.worker`."""
    if is_local(runner):
        import sys

        from apache_beam.runners.portability.fn_api_runner import FnApiRunner
        from apache_beam.transforms import environments

        n = workers or os.cpu_count() or 1
        if n == 1:
            return FnApiRunner()
        command = f"{sys.executable} -m pipelines.core.worker"
        return FnApiRunner(default_environment=environments.SubprocessSDKEnvironment.from_command_string(command))
    from pipelines.core.runners import is_dask

    if is_dask(runner):
        from apache_beam.runners.dask.dask_runner import DaskRunner

        return DaskRunner()
    return None  # Beam picks the runner named in the options


def options_for_manifest(options) -> dict:
    """The options a run used, minus anything that looks like a secret."""
    shown = options.get_all_options(drop_default=True, retain_unknown_options=True)
    return {
        k: ("<redacted>" if any(s in k.lower() for s in ("token", "secret", "password", "key")) else v) for k, v in sorted(shown.items())
    }
