"""`mmdial build inspired`, `mmdial generate inspired`."""

from __future__ import annotations

from pathlib import Path

import typer

from pipelines.cli import common


def register(build: typer.Typer, generate: typer.Typer, select: typer.Typer) -> None:
    @build.command("inspired", context_settings=common.BUILD_CONTEXT)
    def build_inspired(
        ctx: typer.Context,
        raw: str = typer.Option(
            ..., "--raw", help="Folder with train.tsv, dev.tsv, test.tsv (any layout) and optionally movie_database.tsv."
        ),
        out: str = typer.Option(..., "--out", help="Output folder (local path or gs://, s3://, ...)."),
        database: str | None = typer.Option(None, "--database", help="movie_database.tsv (default: found by name below --raw, if any)."),
        context_turns: int = typer.Option(10, "--context-turns", help="Preceding utterances kept per rec sample (0: all)."),
        runner: str = common.RunnerOpt,
        workers: int = common.WorkersOpt,
        max_dead_ratio: float = common.MaxDeadOpt,
        shard_mib: int = common.ShardMiBOpt,
        quiet: bool = common.QuietOpt,
    ) -> None:
        """Build INSPIRED Parquet tables (utterances with placeholder text and strategy labels, rec samples, movies).

        Extra arguments are standard Beam options (e.g. --project, --region, --temp_location).
        """
        from pipelines.core.builder import UsageError
        from pipelines.inspired.builder import InspiredBuilder

        try:
            builder = InspiredBuilder(raw=raw, database_path=database, context_turns=context_turns)
        except UsageError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        common.run_build_command(builder, out, runner, workers, max_dead_ratio, shard_mib, ctx.args, quiet, common.command_line())

    @generate.command("inspired")
    def generate_inspired(
        out: Path = typer.Option(..., "--out"),
        dialogs: int = typer.Option(100, "--dialogs"),
        movies: int = typer.Option(0, "--movies", help="0: scale with the dialogs."),
        database: bool = typer.Option(True, "--database/--no-database", help="Also write movie_database.tsv."),
        bad: int = typer.Option(0, "--bad", help="Also append this many bad rows to train.tsv."),
        seed: int = typer.Option(0, "--seed"),
    ) -> None:
        """Write a synthetic INSPIRED corpus in the native TSV format (train/dev/test.tsv, movie_database.tsv)."""
        from pipelines.inspired.generator import GeneratorConfig
        from pipelines.inspired.generator import generate as gen

        counts = gen(GeneratorConfig(out=str(out), dialogs=dialogs, movies=movies, database=database, bad=bad, seed=seed))
        typer.echo(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))
