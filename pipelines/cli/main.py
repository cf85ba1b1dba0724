"""Root of the `mmdial` command. Heavy libraries (Beam, torch, OCR) load inside commands only,
so `mmdial --help` answers at once."""

from __future__ import annotations

import importlib

import typer
from typer.core import TyperGroup

#: `mmdial --help` lists commands in the order of the work: data, privacy, annotation, models
PANELS = {
    "Data sets": ("generate", "build", "inspect", "stats", "select"),
    "Privacy": ("mask", "mask-candidates", "mask-manual", "deidentify"),
    "Annotation": ("annotate",),
    "Models": ("train", "evaluate", "report", "experiment", "features"),
}
COMMAND_ORDER = [name for names in PANELS.values() for name in names]


class WorkOrderGroup(TyperGroup):
    """Commands in the order of COMMAND_ORDER (the rest after them, by name), not by registration."""

    def list_commands(self, ctx):
        rank = {name: i for i, name in enumerate(COMMAND_ORDER)}
        return sorted(super().list_commands(ctx), key=lambda n: (rank.get(n, len(rank)), n))


app = typer.Typer(
    help="mmdial: multimodal shopping-dialogue corpora to clean, versioned Parquet; annotation; models.",
    no_args_is_help=True,
    cls=WorkOrderGroup,
)
build = typer.Typer(help="Build a data set's Parquet tables from its native files.", no_args_is_help=True)
generate = typer.Typer(help="Write a synthetic corpus in a data set's native format.", no_args_is_help=True)
select = typer.Typer(help="Propose dialogs for annotation.", no_args_is_help=True)
app.add_typer(build, name="build")
app.add_typer(generate, name="generate")
app.add_typer(select, name="select")

# Each data set folder has a cli.py with register(build, generate, select).
DATASETS = ("mmd", "simmc", "jddc", "redial", "inspired")
# Other packages' command groups: module path -> function register(app).
EXTENSIONS = ("annotation.cli", "pipelines.privacy.cli", "modeling.cli")

for _name in DATASETS:
    importlib.import_module(f"pipelines.{_name}.cli").register(build, generate, select)
for _module in EXTENSIONS:
    importlib.import_module(_module).register(app)


def _version(value: bool) -> None:
    if value:
        import pipelines

        typer.echo(f"mmdial {pipelines.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True, help="Print the mmdial version and exit."),
) -> None:
    """mmdial: multimodal shopping-dialogue corpora to clean, versioned Parquet; annotation; models."""


def _refuse_negative_numbers(group: typer.Typer) -> None:
    """Every number a build, generate or select command takes (counts, sizes, turns, ratios,
    seeds) is 0 or more (or its negative default, a sentinel) unless its option declares a range: a negative value exits 2 before any
    work (`--context-turns -3`, `generate mmd --dialogs -5`) instead of changing or emptying the
    output. Structural, so a new option of any data set is covered too."""
    import inspect

    from typer.models import OptionInfo

    for info in group.registered_commands:
        for param in inspect.signature(info.callback).parameters.values():
            option = param.default
            if not isinstance(option, OptionInfo) or str(param.annotation) not in ("int", "float", str(int), str(float)):
                continue
            if option.min is None and option.max is None and option.callback is None:
                sentinel = option.default if isinstance(option.default, int | float) and option.default < 0 else 0
                option.callback = _at_least(sentinel)  # a negative default (`--annotated -1`: automatic) is its own floor


def _at_least(floor: float):
    """A parse-time check with the house's one-line error (click's range error is a framed box)."""

    def check(param: typer.CallbackParam, value):
        if value is not None and value < floor:
            name = max(param.opts, key=len)
            typer.echo(f"error: {name} must be {floor} or more, got {value}", err=True)
            raise typer.Exit(2)
        return value

    return check


for _group in (build, generate, select):
    _refuse_negative_numbers(_group)


@app.command()
def inspect(
    out: str = typer.Argument(..., help="A build output folder."), rows: int = typer.Option(3, "--rows", help="Rows to show per table.")
) -> None:
    """Show a build's manifest summary and a few rows of each table."""
    from rich.console import Console

    from pipelines.core.inspect import show
    from pipelines.core.manifest import NotABuild

    try:
        show(out, rows, Console())
    except NotABuild as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def stats(
    out: str = typer.Argument(..., help="A build output folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the tables as JSON."),
    card: bool = typer.Option(False, "--card", help="Also rewrite OUT/README.md (the dataset card) and its plots."),
) -> None:
    """Print a build's statistics (the tables of its dataset card, as the source papers report them)."""
    import json

    from pipelines.core.manifest import read_manifest
    from pipelines.core.stats import compute

    try:
        manifest = read_manifest(out)
    except FileNotFoundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    st = compute(out, manifest)
    if as_json:
        typer.echo(json.dumps({"dataset": st.dataset, "tables": [t.as_dict() for t in st.tables]}, ensure_ascii=False, indent=1))
    else:
        from rich.console import Console
        from rich.table import Table as RichTable

        from pipelines.core.stats import fmt

        console = Console()
        for t in st.tables:
            rt = RichTable(title=t.title + (f"  ({t.source})" if t.source else ""), caption=t.note or None)
            for i, h in enumerate(t.headers):
                rt.add_column(h, justify="left" if i == 0 else "right")
            for row in t.rows:
                rt.add_row(*(fmt(v) for v in row))
            console.print(rt)
    if card:
        from pipelines.core.card import write_card

        typer.echo(f"card: {write_card(out, manifest)}", err=True)


@app.command()
def version() -> None:
    """Print the mmdial version (as `mmdial --version`)."""
    import pipelines

    typer.echo(pipelines.__version__)


def _assign_panels() -> None:
    """Put every registered command and group into its help panel (see PANELS)."""
    panel_of = {name: panel for panel, names in PANELS.items() for name in names}
    for info in app.registered_commands:
        name = info.name or info.callback.__name__.replace("_", "-")
        info.rich_help_panel = panel_of.get(name, "Other")
    for info in app.registered_groups:
        info.rich_help_panel = panel_of.get(info.name, "Other")


_assign_panels()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
