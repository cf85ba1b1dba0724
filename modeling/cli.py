"""`mmdial train`, `mmdial evaluate`, `mmdial features`, `mmdial experiment`, `mmdial report` (registered through
pipelines/cli/main.py EXTENSIONS). Every command looks the kind up in the recipe registry
(`modeling.recipes`) and calls the recipe: there is one code path per command, whatever the model.
torch and transformers load inside the commands only."""

from __future__ import annotations

from collections.abc import Callable

import typer

from modeling.recipes import RECIPES  # the registry module itself imports nothing heavy

CTX = {"allow_extra_args": True, "ignore_unknown_options": True}
KINDS_HELP = f"A kind of the recipe registry: {', '.join(RECIPES)}."


def _experiment_help(experiments: dict) -> str:
    lines = "\n\n".join(f"{n}: {e['what']}" for n, e in experiments.items())
    return (
        "Train, evaluate and report one of the papers' tables; extra arguments are overrides for every run "
        f"(data=DIR ...). The tables:\n\n{lines}"
    )


def _log(message: str) -> None:
    typer.echo(message, err=True)


def _run(action: Callable[[], object]):
    """Run a command's work; a bad config, build, run or kind ends in one line on stderr (exit 2)."""
    from modeling.config import ConfigError
    from modeling.data.tables import DataError
    from modeling.recipes import RecipeError

    try:
        return action()
    except (ConfigError, DataError, RecipeError, ValueError, FileNotFoundError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def register(app: typer.Typer) -> None:
    @app.command("train", context_settings=CTX)
    def train_cmd(
        ctx: typer.Context,
        kind: str = typer.Argument(..., help=KINDS_HELP),
        config: str = typer.Option(
            ...,
            "--config",
            help="A config of the kind's family (modeling/configs: smoke, mmd_v3, jddc_smoke, mese_smoke, ...) or a YAML path.",
        ),
        progress: bool = typer.Option(
            True, "--progress/--no-progress", help="Progress bars on stderr when it is a terminal (never in a redirected log)."
        ),
    ) -> None:
        """Train a model; extra arguments are dotted overrides, e.g. data=DIR output_dir=DIR train.epochs=3."""
        import os

        from modeling import recipes
        from modeling.config import load_config

        def work() -> list[str]:
            recipe = recipes.get(kind)
            recipes.check_config(recipe, config)
            cfg = load_config(config, ctx.args)
            if not progress and isinstance(cfg.get("train"), dict) and "progress" in cfg["train"]:
                cfg["train"]["progress"] = False
            return recipe.train(cfg, log=_log)

        folders = _run(work)
        if os.environ.get("RANK", "0") == "0":
            typer.echo("\n".join(folders))

    @app.command("evaluate")
    def evaluate_cmd(
        kind: str = typer.Argument(..., help=KINDS_HELP),
        run: str = typer.Option(..., "--run", help="A run folder (output_dir, with seed-*/ runs, or one seed's folder)."),
        split: str | None = typer.Option(
            None, "--split", help="Split to score (default: the run config's test split, e.g. devtest for SIMMC)."
        ),
        data: str | None = typer.Option(None, "--data", help="Test on another build (default: the run's test_data, else data)."),
        device: str = typer.Option("auto", "--device"),
        max_turns: int | None = typer.Option(
            None, "--max-turns", help="Score only the first N turns or examples (default: the config's limit)."
        ),
        eval_mode: str = typer.Option(
            "mmdial",
            "--eval-mode",
            help="Recommenders: mmdial (every candidate, ties count against positives) or larch (LARCH: first 12 positives "
            "and 1,000 negatives, numpy's tie order, per-batch averaging).",
        ),
        protocol: str = typer.Option(
            "mmdial",
            "--protocol",
            help="MESE language metrics: mmdial (generated recommendation turns, ratio Distinct, corpus BLEU and PPL) or paper "
            "(the official definitions: every system turn with its gold items, sampled beam search, Distinct over sentences, "
            "mean nltk sentence BLEU with smoothing 7, mean per-sentence PPL).",
        ),
    ) -> None:
        """Score a trained run on a split; writes RUN/metrics.json (mean and std over seeds, next to the
        kind's baselines) and prints the kind's table."""
        from modeling import recipes

        req = recipes.EvalRequest(run, split, data, device, max_turns, eval_mode, _log, protocol)
        text = _run(lambda: recipes.get(kind).evaluate(req))
        if text:
            typer.echo(text)

    @app.command("features")
    def features_cmd(
        data: str = typer.Option(..., "--data", help="A build output folder with an images table."),
        out: str | None = typer.Option(
            None,
            "--out",
            help="Where image_features/ goes (default: a side build beside a published build, never the published snapshot; a plain build folder itself).",
        ),
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
        from modeling.train.device import pick_device

        summary = _run(
            lambda: compute_features(data, out, encoder, weights, image_size, batch_size, str(pick_device(device)), progress=True)
        )
        typer.echo(" ".join(f"{k}={v}" for k, v in sorted(summary.items())))

    from modeling.experiments import EXPERIMENTS  # plain data, nothing heavy

    @app.command("experiment", context_settings=CTX, help=_experiment_help(EXPERIMENTS))
    def experiment_cmd(
        ctx: typer.Context,
        name: str = typer.Argument(..., help=", ".join(EXPERIMENTS) + "."),
        out: str = typer.Option("runs", "--out", help="Folder for the runs and OUT/report (tables.md, plots)."),
        test_data: str | None = typer.Option(None, "--test-data", help="Also test every run on this build (Table 1: MMD-v2)."),
        smoke: bool = typer.Option(False, "--smoke", help="Train each run's CPU-sized config (MESE, JDDC) instead of the paper's."),
    ) -> None:
        from modeling.experiments import run_experiment

        written = _run(lambda: run_experiment(name, list(ctx.args), out, test_data, log=_log, smoke=smoke))
        typer.echo("\n".join(written))

    @app.command("report")
    def report_cmd(
        runs: list[str] = typer.Argument(None, help="Evaluated run folders (each with metrics.json) of any kinds, or metrics JSON files."),
        more: list[str] = typer.Option(None, "--runs", help="More evaluated run folders (repeatable)."),
        out: str = typer.Option("report", "--out", help="Folder for the report (tables.md; PNG plots for the recommenders)."),
    ) -> None:
        """The paper-shaped tables of evaluated runs, one report per model family (each run's kind is read
        from the run): SeMANTIC's tables and supervision-ratio, ablation and alpha plots; the JDDC
        tables; MESE's Tables 2, 3, 5, 6 and 8 (mean ± std over seeds)."""
        from modeling import recipes

        runs = list(runs or []) + list(more or [])
        if not runs:
            typer.echo("error: give evaluated run folders", err=True)
            raise typer.Exit(2)
        typer.echo("\n".join(_run(lambda: recipes.report(runs, out))))
