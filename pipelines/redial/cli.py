"""`mmdial build redial`, `mmdial generate redial`."""

from __future__ import annotations

from pathlib import Path

import typer

from pipelines.cli import common
from pipelines.privacy import cli as privacy_cli


def register(build: typer.Typer, generate: typer.Typer, select: typer.Typer) -> None:
    @build.command("redial", context_settings=common.BUILD_CONTEXT)
    def build_redial(
        ctx: typer.Context,
        raw: str = typer.Option(
            ..., "--raw", help="Folder with train_data.jsonl, test_data.jsonl and movies_with_mentions.csv (any layout)."
        ),
        out: str = typer.Option(..., "--out", help="Output folder (local path or gs://, s3://, ...)."),
        movies: str | None = typer.Option(None, "--movies", help="movies_with_mentions.csv (default: found by name below --raw)."),
        metadata: str | None = typer.Option(
            None,
            "--metadata",
            help="Movie metadata, .jsonl or .csv (default: movies_metadata.jsonl/.csv below --raw, if any); see pipelines/redial/README.md.",
        ),
        valid_fraction: float = typer.Option(
            0.1, "--valid-fraction", help="Share of the train conversations carved out as valid (stable hash of conversationId)."
        ),
        valid_seed: int = typer.Option(0, "--valid-seed", help="Seed of the valid carve-out."),
        context_turns: int = typer.Option(10, "--context-turns", help="Preceding turns kept per rec sample (0: all)."),
        unit_kib: int = typer.Option(1024, "--unit-kib", help="KiB of jsonl per work unit (ranges are cut on line ends)."),
        deidentify_text: bool | None = privacy_cli.DeidentifyTextOpt,
        runner: str = common.RunnerOpt,
        workers: int = common.WorkersOpt,
        max_dead_ratio: float = common.MaxDeadOpt,
        shard_mib: int = common.ShardMiBOpt,
        quiet: bool = common.QuietOpt,
    ) -> None:
        """Build ReDial Parquet tables (turns with [PH] templates, rec samples, questionnaire labels, movies).

        Extra arguments are standard Beam options (e.g. --project, --region, --temp_location).
        """
        from pipelines.core.builder import UsageError
        from pipelines.redial.builder import RedialBuilder

        try:
            builder = RedialBuilder(
                deidentify_text=privacy_cli.deidentifier_for_build(deidentify_text, default=False),
                raw=raw,
                movies_path=movies,
                metadata_path=metadata,
                valid_fraction=valid_fraction,
                valid_seed=valid_seed,
                context_turns=context_turns,
                unit_bytes=unit_kib * 1024,
            )
        except UsageError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        common.run_build_command(builder, out, runner, workers, max_dead_ratio, shard_mib, ctx.args, quiet, common.command_line())

    @generate.command("redial")
    def generate_redial(
        out: Path = typer.Option(..., "--out"),
        dialogs: int = typer.Option(200, "--dialogs"),
        movies: int = typer.Option(0, "--movies", help="0: scale with the dialogs."),
        metadata_format: str = typer.Option("jsonl", "--metadata-format", help="jsonl, csv or none."),
        bad: int = typer.Option(0, "--bad", help="Also append this many bad lines to train_data.jsonl."),
        seed: int = typer.Option(0, "--seed"),
    ) -> None:
        """Write a synthetic ReDial corpus in the native format (jsonl, movies_with_mentions.csv, metadata)."""
        from pipelines.redial.generator import GeneratorConfig
        from pipelines.redial.generator import generate as gen

        counts = gen(GeneratorConfig(out=str(out), dialogs=dialogs, movies=movies, metadata_format=metadata_format, bad=bad, seed=seed))
        typer.echo(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))
