"""`mmdial build simmc`, `mmdial generate simmc`."""

from __future__ import annotations

from pathlib import Path

import typer

from pipelines.cli import common
from pipelines.privacy import cli as privacy_cli


def register(build: typer.Typer, generate: typer.Typer, select: typer.Typer) -> None:
    @build.command("simmc", context_settings=common.BUILD_CONTEXT)
    def build_simmc(
        ctx: typer.Context,
        raw: str = typer.Option(..., "--raw", help="Unpacked SIMMC 2.x release (any layout: files are found by name)."),
        out: str = typer.Option(..., "--out", help="Output folder (local path or gs://, s3://, ...)."),
        version: str = typer.Option(
            "auto", "--version", help="Dialog files to read: 2.1 (DSTC11), 2.0 (DSTC10), or auto (2.1 when present)."
        ),
        objects_from: str = typer.Option(
            "user", "--objects-from", help="Positives from the user's referenced objects (user) or the assistant's (system)."
        ),
        context_turns: int = typer.Option(10, "--context-turns", help="Merged context turns kept per sample."),
        crop_format: str = typer.Option("jpeg", "--crop-format", help="Encoding of the product crops: jpeg or png."),
        with_mini: bool | None = typer.Option(
            None, "--with-mini/--no-mini", help="Build the 2.1 mini file (default: only when there is no train file)."
        ),
        no_image_bytes: bool = typer.Option(False, "--no-image-bytes", help="Keep only crop URIs, not bytes."),
        deidentify_text: bool | None = privacy_cli.DeidentifyTextOpt,
        runner: str = common.RunnerOpt,
        workers: int = common.WorkersOpt,
        max_dead_ratio: float = common.MaxDeadOpt,
        shard_mib: int = common.ShardMiBOpt,
        quiet: bool = common.QuietOpt,
    ) -> None:
        """Build SIMMC 2.x Parquet tables: dialogs, turns, dialog states, recommendation samples, product crops.

        Extra arguments are standard Beam options (e.g. --project, --region, --temp_location).
        """
        from pipelines.core.builder import UsageError
        from pipelines.simmc.builder import SIMMCBuilder

        try:
            builder = SIMMCBuilder(
                raw=raw,
                deidentify_text=privacy_cli.deidentifier_for_build(deidentify_text, default=False),
                version=version,
                objects_from=objects_from,
                context_turns=context_turns,
                crop_format=crop_format,
                with_mini=with_mini,
                embed_image_bytes=not no_image_bytes,
            )
        except UsageError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        common.run_build_command(builder, out, runner, workers, max_dead_ratio, shard_mib, ctx.args, quiet, common.command_line())

    @generate.command("simmc")
    def generate_simmc(
        out: Path = typer.Option(..., "--out"),
        dialogs: int = typer.Option(200, "--dialogs"),
        scenes: int = typer.Option(0, "--scenes", help="0: scale with the dialogs."),
        objects: int = typer.Option(24, "--objects", help="Mean objects per scene (the paper's 2 + 22)."),
        width: int = typer.Option(640, "--width", help="Screenshot width in pixels."),
        height: int = typer.Option(360, "--height", help="Screenshot height in pixels."),
        flavour: str = typer.Option("both", "--flavour", help="Dialog files to write: both, 2.0 or 2.1."),
        bad: int = typer.Option(0, "--bad", help="Also write this many bad records (wrong types, missing scene/screenshot/prefab)."),
        seed: int = typer.Option(0, "--seed"),
    ) -> None:
        """Write a synthetic SIMMC 2.x release: dialogs (2.0 and 2.1), scenes, screenshots, prefab metadata."""
        from pipelines.simmc.generator import GeneratorConfig
        from pipelines.simmc.generator import generate as gen

        counts = gen(
            GeneratorConfig(
                out=str(out),
                dialogs=dialogs,
                scenes=scenes,
                objects=objects,
                width=width,
                height=height,
                flavour=flavour,
                bad=bad,
                seed=seed,
            )
        )
        typer.echo(" ".join(f"{k}={v}" for k, v in sorted(counts.items()) if not isinstance(v, dict)))
