"""`mmdial build jddc`, `mmdial generate jddc`."""

from __future__ import annotations

from pathlib import Path

import typer

from pipelines.cli import common
from pipelines.privacy import cli as privacy_cli


def register(build: typer.Typer, generate: typer.Typer, select: typer.Typer) -> None:
    @build.command("jddc", context_settings=common.BUILD_CONTEXT)
    def build_jddc(
        ctx: typer.Context,
        raw: str = typer.Option(
            ...,
            "--raw",
            help="JDDC 2.0/2.1 files in any layout: data_*.txt or *.tsv, images/, kb.tsv, image_categories.jsonl, the annotation JSONL files.",
        ),
        out: str = typer.Option(..., "--out", help="Output folder (local path or gs://, s3://, ...)."),
        images: str | None = typer.Option(None, "--images", help="Image folder (default: a folder named images under RAW)."),
        range_mib: int = typer.Option(8, "--range-mib", help="MiB of message TSV per work unit (aligned to whole sessions)."),
        no_image_bytes: bool = typer.Option(False, "--no-image-bytes", help="Keep only image URIs, not bytes."),
        mask_images: bool = privacy_cli.MaskImagesOpt,
        mask_config: str | None = privacy_cli.MaskConfigOpt,
        mask_set: list[str] | None = privacy_cli.MaskSetOpt,
        deidentify_text: bool | None = privacy_cli.DeidentifyTextOpt,
        runner: str = common.RunnerOpt,
        workers: int = common.WorkersOpt,
        max_dead_ratio: float = common.MaxDeadOpt,
        shard_mib: int = common.ShardMiBOpt,
        quiet: bool = common.QuietOpt,
    ) -> None:
        """Build JDDC 2.1 Parquet tables (sessions, messages, images, KB, image categories, annotation layers).

        Extra arguments are standard Beam options (e.g. --project, --region, --temp_location).
        """
        from pipelines.core.builder import UsageError
        from pipelines.jddc.builder import JDDCBuilder

        masker = privacy_cli.masker_for_build(mask_images, mask_config, mask_set)
        try:
            builder = JDDCBuilder(
                raw=raw,
                images_dir=images,
                range_bytes=range_mib * 2**20,
                embed_image_bytes=not no_image_bytes,
                mask=masker,
                # on by default: JDDC 2.1's card says its released text is de-identified
                deidentify_text=privacy_cli.deidentifier_for_build(deidentify_text, default=True),
            )
        except UsageError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        common.run_build_command(builder, out, runner, workers, max_dead_ratio, shard_mib, ctx.args, quiet, common.command_line())

    @generate.command("jddc")
    def generate_jddc(
        out: Path = typer.Option(..., "--out"),
        sessions: int = typer.Option(200, "--sessions"),
        annotated: int = typer.Option(-1, "--annotated", help="Sessions with the three annotation layers (-1: min(2000, sessions/5))."),
        mean_turns: float = typer.Option(14.06, "--mean-turns", help="Mean messages per session (paper: 14.06)."),
        text_only: bool = typer.Option(False, "--text-only", help="No image messages or files (benchmark scale)."),
        products: int = typer.Option(0, "--products", help="Knowledge-base products (0: scale with the sessions)."),
        bad: int = typer.Option(0, "--bad", help="Also inject this many malformed records (all kinds in turn)."),
        seed: int = typer.Option(0, "--seed"),
    ) -> None:
        """Write a synthetic JDDC 2.1 corpus in the native formats."""
        from pipelines.jddc.generator import GeneratorConfig
        from pipelines.jddc.generator import generate as gen

        report = gen(
            GeneratorConfig(
                out=str(out),
                sessions=sessions,
                annotated=annotated,
                mean_turns=mean_turns,
                text_only=text_only,
                products=products,
                bad=bad,
                seed=seed,
            )
        )
        typer.echo(" ".join(f"{k}={v}" for k, v in sorted(report["counts"].items())))
        if report["dead"]:
            typer.echo("expected dead letters: " + " ".join(f"{k}={v}" for k, v in report["dead"].items()))
        typer.echo(f"image text font: {report['font']}")
