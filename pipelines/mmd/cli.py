"""`mmdial build mmd`, `mmdial generate mmd`, `mmdial select mmd`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from pipelines.cli import common
from pipelines.privacy import cli as privacy_cli


def _rounds(text: str) -> tuple[int, int]:
    lo, _, hi = text.partition("-")
    return int(lo), int(hi or lo)


def register(build: typer.Typer, generate: typer.Typer, select: typer.Typer) -> None:
    @build.command("mmd", context_settings=common.BUILD_CONTEXT)
    def build_mmd(
        ctx: typer.Context,
        raw: str = typer.Option(..., "--raw", help="Unpacked MMD or MMD 2.0 release (any layout)."),
        out: str = typer.Option(..., "--out", help="Output folder (local path or gs://, s3://, ...)."),
        images: Optional[str] = typer.Option(None, "--images", help="Image folder (default: RAW/images if present)."),
        states: Optional[str] = typer.Option(None, "--states", help="Dialog states (JSONL or Parquet, see pipelines/mmd/README.md)."),
        v3: bool = typer.Option(False, "--v3", help="Build MMD-v3: only the dialogs that have states (needs --states)."),
        context_turns: int = typer.Option(10, "--context-turns", help="Merged context turns kept per sample."),
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
        """Build MMD-v2 (or MMD-v3 with --v3) Parquet tables from native MMD files.

        Extra arguments are standard Beam options (e.g. --project, --region, --temp_location).
        """
        from pipelines.core.builder import UsageError
        from pipelines.mmd.builder import MMDBuilder

        masker = privacy_cli.masker_for_build(mask_images, mask_config, mask_set)
        try:
            builder = MMDBuilder(
                raw=raw,
                deidentify_text=privacy_cli.deidentifier_for_build(deidentify_text, default=False),
                images_dir=images,
                states_path=states,
                v3=v3,
                context_turns=context_turns,
                embed_image_bytes=not no_image_bytes,
                mask=masker,
            )
        except UsageError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        common.run_build_command(builder, out, runner, workers, max_dead_ratio, shard_mib, ctx.args, quiet, common.command_line())

    @generate.command("mmd")
    def generate_mmd(
        out: Path = typer.Option(..., "--out"),
        dialogs: int = typer.Option(200, "--dialogs"),
        products: int = typer.Option(0, "--products", help="0: scale with the dialogs."),
        fmt: str = typer.Option("saha", "--format", help="saha (image URLs) or mmd2 (image ids + image_id.json)."),
        no_images: bool = typer.Option(False, "--no-images"),
        states_fraction: float = typer.Option(0.2, "--states-fraction"),
        bad: int = typer.Option(0, "--bad", help="Also write this many malformed dialog files."),
        seed: int = typer.Option(0, "--seed"),
        rounds: str = typer.Option("1-3", "--rounds", help="Recommendation rounds per dialog, MIN-MAX (8-10 gives MMD's ~40 utterances)."),
    ) -> None:
        """Write a synthetic MMD corpus in the native format."""
        from pipelines.mmd.generator import GeneratorConfig
        from pipelines.mmd.generator import generate as gen

        counts = gen(
            GeneratorConfig(
                out=str(out),
                dialogs=dialogs,
                products=products,
                fmt=fmt,
                images=not no_images,
                states_fraction=states_fraction,
                bad=bad,
                seed=seed,
                rounds=_rounds(rounds),
            )
        )
        typer.echo(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))

    @select.command("mmd")
    def select_mmd(
        build: str = typer.Option(..., "--from", help="An MMD-v2 build output."),
        out: Path = typer.Option(..., "--out", help="JSONL of the selected dialog ids."),
        fraction: float = typer.Option(0.05, "--fraction"),
        seed: int = typer.Option(0, "--seed"),
    ) -> None:
        """Propose a stratified sample of MMD-v2 dialogs for dialog-state annotation (MMD-v3)."""
        from pipelines.mmd.select import select_for_states

        summary = select_for_states(build, str(out), fraction, seed)
        typer.echo(" ".join(f"{k}={v}" for k, v in sorted(summary.items())))
