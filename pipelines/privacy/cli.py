"""`mmdial mask`, `mmdial mask-manual`, `mmdial mask-candidates`, and the `--mask-images` options
that data-set build commands share (see pipelines/privacy/README.md)."""

from __future__ import annotations

import typer

from pipelines.cli import common

# -- shared by every `mmdial build <dataset> --mask-images` -----------------------------------
MaskImagesOpt = typer.Option(False, "--mask-images", help="Mask PII in images (OCR) before they are written; see `mmdial mask --help`.")
MaskConfigOpt = typer.Option(
    None, "--mask-config", help="Privacy policy YAML merged over the default (pipelines/privacy/default_policy.yaml)."
)
MaskSetOpt = typer.Option(None, "--mask-set", help="Policy override, dotted.key=value (repeatable), e.g. policy=all-text.")


def make_masker(
    config: str | None = None,
    sets: list[str] | None = None,
    policy: str | None = None,
    engine: str | None = None,
    vocab: list[str] | None = None,
    kb: list[str] | None = None,
    timeout: float | None = None,
):
    """A PrivacyMasker from CLI options (raises UsageError on a bad policy)."""
    from pipelines.core.builder import UsageError
    from pipelines.privacy.policy import load_config
    from pipelines.privacy.stage import PrivacyMasker

    overrides = list(sets or [])
    if policy:
        overrides.append(f"policy={policy}")
    if engine:
        overrides.append(f"engine.name={engine}")
    if timeout is not None:
        overrides.append(f"limits.timeout_s={timeout}")
    try:
        cfg = load_config(config, overrides)
    except (ValueError, OSError) as exc:
        raise UsageError(f"privacy policy: {exc}") from None
    vocabs = dict(cfg.get("vocabularies") or {})
    for spec in vocab or []:
        entity, _, path = spec.partition("=")
        if not path:
            raise UsageError(f"--vocab {spec!r}: expected ENTITY=FILE (e.g. brand=brands.txt)")
        v = vocabs.setdefault(f"vocab_{entity}", {"entity": entity, "files": []})
        v.setdefault("files", []).append(path)
    if kb:
        vocabs.setdefault("vocab_kb_brand", {"entity": "brand", "kb": []}).setdefault("kb", []).extend(kb)
    cfg["vocabularies"] = vocabs
    return PrivacyMasker(cfg)


DeidentifyTextOpt = typer.Option(
    None,
    "--deidentify-text/--no-deidentify-text",
    help="Replace personal values in every free-text column by typed placeholders (default: on where the data set's card says its release is de-identified).",
)


def text_deidentifier(files: list[str] | None = None, keep: list[str] | None = None, kb: list[str] | None = None, salt: str | None = None):
    """A TextDeidentifier from CLI options (--recognizers, --keep ENTITY=FILE, --kb)."""
    from pipelines.privacy.text import TextDeidentifier

    vocabs: dict[str, dict] = {}
    for spec in keep or []:
        entity, _, path = spec.partition("=")
        if not path:
            raise ValueError(f"--keep {spec!r}: expected ENTITY=FILE (e.g. brand=brands.txt)")
        vocabs.setdefault(f"keep_{entity}", {"entity": entity, "files": []})["files"].append(path)
    if kb:
        vocabs["keep_kb_brand"] = {"entity": "brand", "kb": list(kb)}
    return TextDeidentifier(files=list(files or []), vocabularies=vocabs, salt=salt)


def deidentifier_for_build(flag: bool | None, default: bool, kb: str | None = None):
    """What a build command passes to its builder: None unless --deidentify-text (or the data set's default)."""
    if not (default if flag is None else flag):
        return None
    return text_deidentifier(kb=[kb] if kb else None)


def masker_for_build(mask_images: bool, config: str | None, sets: list[str] | None):
    """What a build command passes to its builder: None unless --mask-images."""
    if not mask_images:
        if config or sets:
            typer.echo("error: --mask-config/--mask-set need --mask-images", err=True)
            raise typer.Exit(2)
        return None
    from pipelines.core.builder import UsageError

    try:
        return make_masker(config, sets)
    except UsageError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def register(app: typer.Typer) -> None:
    @app.command("mask", context_settings=common.BUILD_CONTEXT)
    def mask(
        ctx: typer.Context,
        inp: str = typer.Option(
            ...,
            "--in",
            help="A folder of image files, or an images Parquet table (a build output, a folder of Parquet files, or one file).",
        ),
        out: str = typer.Option(
            ..., "--out", help="Output folder: images (masked), privacy_quarantine, privacy_candidates, manifest.json."
        ),
        config: str | None = typer.Option(None, "--config", help="Policy YAML merged over the default."),
        sets: list[str] | None = typer.Option(None, "--set", help="Policy override dotted.key=value (repeatable)."),
        policy: str | None = typer.Option(None, "--policy", help="pii (default) or all-text."),
        engine: str | None = typer.Option(
            None, "--engine", help="rapidocr (default), paddle (set engine.det_model_dir/rec_model_dir), fake."
        ),
        categories: str | None = typer.Option(
            None, "--categories", help='JSONL {"image": name-or-image_id, "category": str} for per-category overrides.'
        ),
        vocab: list[str] | None = typer.Option(
            None, "--vocab", help="ENTITY=FILE word list (brand=brands.txt, store_name=stores.txt); repeatable."
        ),
        kb: list[str] | None = typer.Option(None, "--kb", help="JDDC knowledge base (kb.tsv or kb.jsonl): its brand values are masked."),
        timeout: float | None = typer.Option(None, "--timeout", help="OCR seconds per image before quarantine (default from the policy)."),
        dataset: str = typer.Option("images", "--dataset", help="`dataset` value for rows that do not carry one."),
        runner: str = common.RunnerOpt,
        workers: int = common.WorkersOpt,
        max_dead_ratio: float = common.MaxDeadOpt,
        shard_mib: int = common.ShardMiBOpt,
        quiet: bool = common.QuietOpt,
    ) -> None:
        """Mask PII (phones, order numbers, names, addresses, stores, brands, models) in images with OCR.

        Fail closed: undecodable images and OCR errors or timeouts are quarantined, never published.
        Images left without any mask are listed in privacy_candidates for the manual check.
        Extra arguments are standard Beam options.
        """
        from pipelines.core.builder import UsageError
        from pipelines.privacy.builder import MaskBuilder

        try:
            masker = make_masker(config, sets, policy, engine, vocab, kb, timeout)
        except UsageError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        builder = MaskBuilder(input=inp, masker=masker, dataset_name=dataset, categories_path=categories)
        common.run_build_command(builder, out, runner, workers, max_dead_ratio, shard_mib, ctx.args, quiet, common.command_line())

    @app.command("mask-manual", context_settings=common.BUILD_CONTEXT)
    def mask_manual(
        ctx: typer.Context,
        inp: str = typer.Option(..., "--in", help="A `mmdial mask` output (or a build run with --mask-images)."),
        manual: str = typer.Option(..., "--manual", help="privacy_manual.jsonl from the manual privacy check (docs/exchange-formats.md)."),
        out: str = typer.Option(..., "--out", help="Output folder for the final images."),
        acceptance: str | None = typer.Option(
            None,
            "--acceptance",
            help="The acceptance check of the auto-masked images (`mmdial annotate qc report --json`): its residual estimate goes into the manifest and card.",
        ),
        dataset: str = typer.Option("images", "--dataset"),
        images: str | None = typer.Option(
            None,
            "--images",
            help="The folder the build read its images from (its --images or RAW/images): originals of quarantined images are released from there.",
        ),
        runner: str = common.RunnerOpt,
        workers: int = common.WorkersOpt,
        max_dead_ratio: float = common.MaxDeadOpt,
        shard_mib: int = common.ShardMiBOpt,
        quiet: bool = common.QuietOpt,
    ) -> None:
        """Apply manual privacy boxes to masked images (final images; released quarantines)."""
        from pipelines.privacy.builder import ManualBuilder

        builder = ManualBuilder(input=inp, manual_path=manual, dataset_name=dataset, images_dir=images, acceptance_path=acceptance)
        common.run_build_command(builder, out, runner, workers, max_dead_ratio, shard_mib, ctx.args, quiet, common.command_line())

    @app.command("deidentify")
    def deidentify(
        inp: str = typer.Option(..., "--in", help="JSON lines (one object per line) or a Parquet file."),
        field: str = typer.Option(..., "--field", help="The text field to de-identify (e.g. text)."),
        out: str = typer.Option(..., "--out", help="Output file, same format; dead letters go to OUT.dead_letters.jsonl."),
        group: str = typer.Option("dialog_id", "--group", help="Records sharing this field share placeholder numbers ('' : per record)."),
        recognizers: list[str] | None = typer.Option(
            None, "--recognizers", help="Extra recogniser YAML (repeatable); extends images' too."
        ),
        keep: list[str] | None = typer.Option(None, "--keep", help="ENTITY=FILE terms kept as product information (brand=brands.txt)."),
        kb: list[str] | None = typer.Option(None, "--kb", help="JDDC knowledge base (kb.tsv or kb.jsonl): its brands are kept."),
        salt: str | None = typer.Option(None, "--salt", help="Add a salted sha256 of each value to its record (or MMDIAL_DEID_SALT)."),
    ) -> None:
        """Replace personal values in one text field by typed placeholders ([PHONE_1], [PERSON_2], ...).

        The same recogniser registry as `mmdial mask`; each record gets a `deidentified` record of
        what was replaced (type, span, recogniser; never the value).
        """
        from pipelines.privacy import text_files

        try:
            deid = text_deidentifier(recognizers, keep, kb, salt)
            res = text_files.run(inp, out, field, deid, group or None)
        except (ValueError, OSError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        counts = " ".join(f"{k}={v}" for k, v in sorted(res.counts.items()))
        typer.echo(f"records_in={res.records_in} records_out={res.records_out} dead_letters={res.dead} {counts}".rstrip())

    @app.command("mask-candidates")
    def mask_candidates(
        inp: str = typer.Option(..., "--in", help="A `mmdial mask` (or --mask-images build) output."),
        out: str = typer.Option(..., "--out", help="JSONL {image_id, source_key, uri, reason, ...} for the manual check."),
    ) -> None:
        """Write the manual-check candidates as JSONL (docs/exchange-formats.md)."""
        from pipelines.privacy.candidates import write_jsonl

        n = write_jsonl(inp, out)
        typer.echo(f"candidates={n}")
