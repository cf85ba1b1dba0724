"""What every `mmdial build <dataset>` shares: Beam options, running, the summary, exit codes."""

from __future__ import annotations

import sys

import typer

BUILD_CONTEXT = {"allow_extra_args": True, "ignore_unknown_options": True}

RunnerOpt = typer.Option(
    "FnApiRunner",
    "--runner",
    help="FnApiRunner (local, default; DirectRunner is routed to it), dask (Beam's DaskRunner: --dask_client_address ADDR, else a local cluster of --workers processes), DataflowRunner, FlinkRunner, SparkRunner, ...",
)
WorkersOpt = typer.Option(0, "--workers", help="Local worker processes (0: all cores).")
MaxDeadOpt = typer.Option(0.05, "--max-dead-ratio", help="Fail (exit 1) when dead letters / records in exceed this.")
ShardMiBOpt = typer.Option(8, "--shard-mib", help="Input MiB per shard; the shard count follows from the input size.")
QuietOpt = typer.Option(False, "--quiet", help="No progress bar or summary table.")


def run_build_command(
    builder, out: str, runner: str, workers: int, max_dead_ratio: float, shard_mib: int, beam_args: list[str], quiet: bool, command: str
) -> dict:
    from rich.console import Console

    from pipelines.core.builder import UsageError
    from pipelines.core.engine import BuildOptions, WorkerFailed, run_build
    from pipelines.core.summary import render

    console = Console(stderr=True)
    check_options(beam_args, runner)
    if workers < 0:
        fail(f"--workers must be 0 (all cores) or a positive count, got {workers}")
    if shard_mib <= 0:
        fail(f"--shard-mib must be positive, got {shard_mib}")
    if not 0 <= max_dead_ratio <= 1:
        fail(f"--max-dead-ratio must be between 0 and 1, got {max_dead_ratio}")
    opts = BuildOptions(
        out=out,
        runner=runner,
        workers=workers,
        beam_args=list(beam_args),
        max_dead_ratio=max_dead_ratio,
        shard_bytes=shard_mib * 2**20,
        progress=not quiet,
    )
    try:
        manifest = run_build(builder, opts, command=command)
    except UsageError as exc:
        fail(str(exc))
    except WorkerFailed as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for warning in manifest.get("warnings", []):
        typer.echo(f"warning: {warning}", err=True)
    if not quiet:
        render(manifest, console)
    if manifest.get("status") == "failed":
        where = manifest["run"].get("snapshot", out)
        previous = "the previous build stays published" if _has_build(out) else "nothing was published"
        for line in manifest["failures"]:
            typer.echo(f"error: {line}", err=True)
        typer.echo(f"error: build not published ({previous}); the failed build, its manifest and dead letters are in {where}", err=True)
        raise typer.Exit(1)
    return manifest


def check_options(beam_args: list[str], runner: str) -> None:
    """Before any work: options neither the command nor Beam knows, and runners Beam cannot
    start, exit 2 with one line (`--quite`: did you mean --quiet?)."""
    from pipelines.core.options import runner_problem, unknown_options

    try:  # typer >= 0.26 carries its own copy of click
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover - older typer on plain click
        from click import get_current_context
    ctx = get_current_context(silent=True)
    own = [o for p in (ctx.command.params if ctx else []) for o in getattr(p, "opts", []) if o.startswith("--")]
    problems = unknown_options(list(beam_args), own)
    if problems:
        fail("; ".join(problems))
    problem = runner_problem(runner)
    if problem:
        fail(problem)


def _has_build(out: str) -> bool:
    from pipelines.core.publish import store_for

    return store_for(out).current_id() is not None


def fail(message: str):
    """A usage error: one line on stderr, exit 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def command_line() -> str:
    return "mmdial " + " ".join(sys.argv[1:])
