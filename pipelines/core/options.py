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
        command = f"exec {sys.executable} -m pipelines.core.worker"  # exec: no shell left to print "Killed" when a worker dies
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


# -- validation before any work (issue #21 item 4) ---------------------------------------------
#: modules whose import registers the option groups of the runners a build may name
_OPTION_MODULES = (
    "apache_beam.options.pipeline_options",
    "apache_beam.runners.portability.flink_runner",
    "apache_beam.runners.portability.spark_runner",
    "apache_beam.runners.dask.dask_runner",
)


def _subclasses(cls) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def beam_option_names(dask: bool = True) -> set[str]:
    """Every `--name` some Beam option group (runner-specific ones included) declares; `dask`
    False skips importing Dask (seconds) when no `--dask*` option was given."""
    import argparse
    import contextlib
    import importlib
    import logging

    logging.getLogger("root").setLevel(logging.ERROR)  # a missing GCP client library warns on import
    for module in _OPTION_MODULES:
        if "dask" in module and not dask:
            continue
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    from apache_beam.options.pipeline_options import PipelineOptions

    parser = argparse.ArgumentParser(add_help=False)
    for cls in dict.fromkeys(_subclasses(PipelineOptions)):
        with contextlib.suppress(argparse.ArgumentError, TypeError, ValueError):
            cls._add_argparse_args(parser)
    return {s for s in parser._option_string_actions if s.startswith("--")}


def unknown_options(args: list[str], own: list[str]) -> list[str]:
    """One message per option in `args` (what the mmdial command did not parse itself) that no
    Beam option group knows, with the closest known name (`--quite` -> did you mean --quiet?)."""
    import difflib

    flags = [a.split("=", 1)[0] for a in args if a.startswith("--")]
    strays = [a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or not args[i - 1].startswith("--") or "=" in args[i - 1])]
    if not flags and not strays:
        return []
    known = beam_option_names(dask=any(f.startswith("--dask") for f in flags))
    problems = []
    for flag in flags:
        if flag in known or flag.replace("-", "_") in known:
            continue
        # the command's own options first: a typo of --quiet is far likelier than of --update
        close = difflib.get_close_matches(flag, sorted(own), n=1, cutoff=0.6) or difflib.get_close_matches(
            flag, sorted(known), n=1, cutoff=0.6
        )
        problems.append(f"unknown option {flag}" + (f" (did you mean {close[0]}?)" if close else ""))
    problems += [f"unexpected argument {a!r}" for a in strays]
    return problems


def runner_problem(runner: str) -> str | None:
    """Why Beam cannot run `runner` here (unknown name, missing extra), in one line, or None."""
    from pipelines.core.runners import is_dask

    if is_local(runner):
        return None
    if is_dask(runner):
        try:
            import apache_beam.runners.dask.dask_runner  # noqa: F401
        except ImportError as exc:
            return f"--runner {runner}: needs Dask (pip install 'mmdial[dask]'; {exc})"
        return None
    import logging

    from apache_beam.runners.runner import create_runner

    logging.getLogger("root").setLevel(logging.ERROR)
    try:
        create_runner(runner)
    except ValueError:
        names = "FnApiRunner (local), dask, DataflowRunner, FlinkRunner, SparkRunner, PortableRunner"
        return f"--runner {runner}: no such Beam runner (known: {names}, or a runner's full Python name)"
    except ImportError as exc:
        return f"--runner {runner}: its libraries are not installed ({exc})"
    return None
