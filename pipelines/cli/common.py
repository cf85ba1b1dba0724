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
    from pipelines.core.engine import BuildOptions, run_build
    from pipelines.core.summary import render

    console = Console(stderr=True)
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
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if not quiet:
        render(manifest, console)
    ratio = manifest["dead_letters"]["ratio"]
    if ratio > max_dead_ratio:
        typer.echo(
            f"error: dead-letter ratio {ratio:.4f} is above --max-dead-ratio {max_dead_ratio}; "
            f"see {out}/dead_letters/ for the records and reasons",
            err=True,
        )
        raise typer.Exit(1)
    if not manifest["counts_reconcile"]:
        typer.echo("error: records in != out + dead + filtered for some stage (a bug): see manifest.json", err=True)
        raise typer.Exit(1)
    return manifest


def command_line() -> str:
    return "mmdial " + " ".join(sys.argv[1:])
