"""`mmdial train`, `mmdial evaluate`, `mmdial features`, `mmdial experiment`, `mmdial report` (registered through
pipelines/cli/main.py EXTENSIONS). torch and transformers load inside the commands only."""

from __future__ import annotations

import typer

KINDS_HELP = (
    "semantic (SeMANTIC), clip (CLIP-style dual encoder), text (text-only baseline), "
    "a JDDC task: jddc-response, jddc-rewrite-cls, jddc-rewrite, jddc-discourse, "
    "jddc-summary-lead|lexrank|pg|bertsum, or mese (MESE on a ReDial build)"
)
CTX = {"allow_extra_args": True, "ignore_unknown_options": True}


def _is_jddc(kind: str) -> bool:
    return kind.startswith("jddc-")


def _is_parse_task(kind: str) -> bool:
    """A JDDC part-2 task (discourse parsing, summarisation): modeling.jddc.parse_tasks."""
    from modeling.jddc.parse_tasks import PARSE_TASKS

    return kind in PARSE_TASKS


def _check_kind(kind: str) -> None:
    from modeling.runtime import MODEL_KINDS

    if kind == "mese":
        return
    if _is_jddc(kind):
        from modeling.jddc.parse_tasks import PARSE_TASKS
        from modeling.jddc.tasks import TASKS

        if kind not in TASKS and kind not in PARSE_TASKS:
            typer.echo(f"error: task {kind!r}: one of {', '.join([*TASKS, *PARSE_TASKS])}", err=True)
            raise typer.Exit(2)
        return

    if kind not in MODEL_KINDS:
        typer.echo(f"error: model {kind!r}: one of {', '.join(MODEL_KINDS)}", err=True)
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    @app.command("train", context_settings=CTX)
    def train_cmd(
        ctx: typer.Context,
        kind: str = typer.Argument(..., help=KINDS_HELP),
        config: str = typer.Option(
            ..., "--config", help="A config name (modeling/configs: mmd_v3, mmd_v2, simmc, smoke, experiments) or a YAML path."
        ),
    ) -> None:
        """Train a model; extra arguments are dotted overrides, e.g. data=DIR output_dir=DIR train.epochs=3."""
        _check_kind(kind)
        from modeling.config import ConfigError, load_config
        from modeling.data.tables import DataError
        from modeling.train.loop import train

        if _is_jddc(kind):
            from modeling.jddc.run import train
        if _is_jddc(kind) and _is_parse_task(kind):
            from modeling.jddc.parse_tasks import train
        if kind == "mese":
            from modeling.mese.train import train_kind as train
        try:
            cfg = load_config(config, ctx.args)
            folders = train(kind, cfg, log=lambda m: typer.echo(m, err=True))
        except (ConfigError, DataError, ValueError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        import os

        if os.environ.get("RANK", "0") == "0":
            typer.echo("\n".join(folders))

    @app.command("evaluate")
    def evaluate_cmd(
        kind: str = typer.Argument(..., help=KINDS_HELP),
        run: str = typer.Option(..., "--run", help="A run folder (output_dir, with seed-*/ runs, or one seed's folder)."),
        split: str | None = typer.Option(
            None, "--split", help="Split to score (default: the run config's test_split, e.g. devtest for SIMMC)."
        ),
        data: str | None = typer.Option(None, "--data", help="Test on another build (default: the run's test_data, else data)."),
        device: str = typer.Option("auto", "--device"),
        max_turns: int | None = typer.Option(
            None, "--max-turns", help="Score only the first N turns (default: the config's loader.max_eval_turns)."
        ),
        eval_mode: str = typer.Option(
            "mmdial",
            "--eval-mode",
            help="mmdial (every candidate, ties count against positives) or larch (LARCH: first 12 positives and 1,000 "
            "negatives, numpy's tie order, per-batch averaging).",
        ),
    ) -> None:
        """P@k, R@k, NDCG@k (k = 5, 10, 20) over each turn's full candidate list; writes RUN/metrics.json.
        JDDC tasks: BLEU-4, ROUGE-1/2/L, Distinct-1/2 (generation) or F1 (rewritable), per seed and
        mean/std, next to the trivial baseline; samples.jsonl per seed."""
        _check_kind(kind)
        if _is_jddc(kind) and _is_parse_task(kind):
            from modeling.data.tables import DataError
            from modeling.jddc.parse_tasks import evaluate_run as parse_evaluate
            from modeling.jddc.parse_tasks import render

            try:
                result = parse_evaluate(run, split or "test", data, device, log=lambda m: typer.echo(m, err=True))
            except (FileNotFoundError, DataError, ValueError) as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(2) from None
            typer.echo(render(result))
            return
        if _is_jddc(kind):
            from modeling.data.tables import DataError
            from modeling.jddc.report import render_run
            from modeling.jddc.run import evaluate_run as jddc_evaluate

            try:
                result = jddc_evaluate(
                    run, split or "test", data, None if device == "auto" else device, max_turns, log=lambda m: typer.echo(m, err=True)
                )
            except (FileNotFoundError, DataError, ValueError) as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(2) from None
            typer.echo(render_run(result))
            return
        if kind == "mese":
            from modeling.data.tables import DataError
            from modeling.mese.evaluate import evaluate_run as mese_evaluate
            from modeling.mese.report import tables

            try:
                result = mese_evaluate(run, split, data, device, max_turns, log=lambda m: typer.echo(m, err=True))
            except (FileNotFoundError, DataError, ValueError) as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(2) from None
            typer.echo(tables([result]))
            return
        from modeling.data.tables import DataError
        from modeling.train.evaluate import evaluate_run, render_table

        try:
            result = evaluate_run(run, split, data, device, kind, max_turns, eval_mode)
        except (FileNotFoundError, DataError, ValueError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        render_table(result)

    @app.command("features")
    def features_cmd(
        data: str = typer.Option(..., "--data", help="A build output folder with an images table."),
        out: str | None = typer.Option(None, "--out", help="Where image_features/ goes (default: the build folder)."),
        encoder: str = typer.Option(
            "efficientnet_lite0", "--encoder", help="efficientnet_lite0, resnet18 (needs --weights) or resnet18_random."
        ),
        weights: str | None = typer.Option(None, "--weights", help="Torchvision-format ResNet-18 state dict (.pth or .safetensors)."),
        image_size: int = typer.Option(224, "--image-size"),
        batch_size: int = typer.Option(32, "--batch-size"),
        device: str = typer.Option("auto", "--device"),
    ) -> None:
        """Precompute image features into an image_features Parquet table."""
        from modeling.data.features import compute_features
        from modeling.data.tables import DataError
        from modeling.train.device import pick_device

        try:
            summary = compute_features(data, out, encoder, weights, image_size, batch_size, str(pick_device(device)), progress=True)
        except (DataError, ValueError, FileNotFoundError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        typer.echo(" ".join(f"{k}={v}" for k, v in sorted(summary.items())))

    @app.command("experiment", context_settings=CTX)
    def experiment_cmd(
        ctx: typer.Context,
        name: str = typer.Argument(..., help="table1-mmd, table1-simmc, figure4, table6, table7, table8-mmd, table8-simmc or table5."),
        out: str = typer.Option("runs", "--out", help="Folder for the runs and OUT/report (tables.md, plots)."),
        test_data: str | None = typer.Option(None, "--test-data", help="Also test every run on this build (Table 1: MMD-v2)."),
    ) -> None:
        """Train, evaluate and report one of the paper's tables; extra arguments are overrides for every run (data=DIR ...)."""
        from modeling.config import ConfigError
        from modeling.data.tables import DataError
        from modeling.experiments import run_experiment

        try:
            written = run_experiment(name, list(ctx.args), out, test_data, log=lambda m: typer.echo(m, err=True))
        except (ConfigError, DataError, ValueError, FileNotFoundError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        typer.echo("\n".join(written))

    @app.command("report")
    def report_cmd(
        runs: list[str] = typer.Argument(None, help="Evaluated run folders (each with metrics.json); `jddc` first for the JDDC tables."),
        more: list[str] = typer.Option(None, "--runs", help="More evaluated run folders (repeatable)."),
        out: str = typer.Option("report", "--out", help="Folder for the PNG plots and summary.json (JDDC: tables.md)."),
    ) -> None:
        """Plot supervision-ratio, ablation and alpha results (NDCG@5, R@5) from evaluated runs;
        `mmdial report jddc RUN...` prints the JDDC paper-shaped tables (mean ± std over seeds);
        `mmdial report mese RUN...` MESE's Tables 2, 3, 5, 6 and 8."""
        runs = list(runs or []) + list(more or [])
        if runs and runs[0] == "mese":
            from modeling.mese.report import write_tables as write_mese

            try:
                typer.echo(write_mese(runs[1:], out))
            except (FileNotFoundError, ValueError) as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(2) from None
            return
        if runs and runs[0] == "jddc":
            from modeling.jddc.report import write_tables

            try:
                typer.echo(write_tables(runs[1:], out))
            except (FileNotFoundError, ValueError) as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(2) from None
            return
        if not runs:
            typer.echo("error: give evaluated run folders", err=True)
            raise typer.Exit(2)
        from modeling.report.plots import make_report

        written = make_report(runs, out)
        typer.echo("\n".join(written))
