"""`mmdial annotate ...`: server, push, pull, qc, status, flows.

Where the server is: `--data-dir` (or $MMDIAL_LS_DATA_DIR) of a server started by `mmdial annotate
server start` gives its URL and token file; otherwise `--url` (or $MMDIAL_LS_URL) and a token from
$MMDIAL_LS_TOKEN or $MMDIAL_LS_TOKEN_FILE (a 0600 file). There is deliberately no --token option:
a token on a command line is visible to every user of the machine.
"""

from __future__ import annotations

import json
from fractions import Fraction

import typer

DataDirOpt = typer.Option(
    None, "--data-dir", envvar="MMDIAL_LS_DATA_DIR", help="Data directory of a server started by `mmdial annotate server start`."
)
UrlOpt = typer.Option(
    None, "--url", envvar="MMDIAL_LS_URL", help="Label Studio URL (token from $MMDIAL_LS_TOKEN or $MMDIAL_LS_TOKEN_FILE)."
)
ProjectOpt = typer.Option(..., "--project", help="Label Studio project title.")


def _fail(msg: str, code: int = 2):
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code)


def _server(data_dir: str | None, port: int = 0):
    from annotation.server import LabelStudioServer, ServerConfig

    if not data_dir:
        _fail("--data-dir (or $MMDIAL_LS_DATA_DIR) is required")
    return LabelStudioServer(ServerConfig(data_dir=data_dir, port=port))


def connect(url: str | None, data_dir: str | None):
    from annotation import credentials
    from annotation.client import LSClient
    from annotation.server import ServerError

    default_token_file = None
    if data_dir:
        srv = _server(data_dir)
        default_token_file = srv.token_file
        if not url:
            try:
                url = srv.url
            except ServerError as exc:
                _fail(str(exc))
    if not url:
        _fail("no server: give --data-dir of a server started by mmdial, or --url with $MMDIAL_LS_TOKEN")
    try:
        token = credentials.resolve_token(default_token_file)
    except credentials.CredentialError as exc:
        _fail(str(exc))
    return LSClient(url, token)


def _echo_json(obj) -> None:
    typer.echo(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str))


def register(app: typer.Typer) -> None:
    annotate = typer.Typer(help="Annotation with Label Studio: server, push, pull, QC, status.", no_args_is_help=True)
    server = typer.Typer(help="Run a local Label Studio server (127.0.0.1 only).", no_args_is_help=True)
    qcapp = typer.Typer(help="Group acceptance check: 10% of each group of 100 reviewed, 90% to pass.", no_args_is_help=True)
    annotate.add_typer(server, name="server")
    annotate.add_typer(qcapp, name="qc")
    app.add_typer(annotate, name="annotate")

    @server.command("start")
    def server_start(
        data_dir: str | None = DataDirOpt, port: int = typer.Option(0, "--port", help="Port (0: a free one; a restart reuses the last).")
    ) -> None:
        """Start Label Studio on 127.0.0.1 with DATA_DIR; admin and API token are created without prompts."""
        from annotation.server import ServerError, main_status_line

        srv = _server(data_dir, port)
        try:
            st = srv.start()
        except ServerError as exc:
            _fail(str(exc), 1)
        typer.echo(main_status_line(st))
        typer.echo(f"API token file (mode 0600): {srv.token_file}; admin login (mode 0600): {srv.admin_file}")

    @server.command("stop")
    def server_stop(data_dir: str | None = DataDirOpt) -> None:
        """Stop the server of DATA_DIR."""
        stopped = _server(data_dir).stop()
        typer.echo("stopped" if stopped else "not running")

    @server.command("status")
    def server_status(data_dir: str | None = DataDirOpt) -> None:
        """Is the server of DATA_DIR running, and where."""
        from annotation.server import main_status_line

        st = _server(data_dir).status()
        typer.echo(main_status_line(st))
        raise typer.Exit(0 if st["running"] else 3)

    @annotate.command("flows")
    def flows_cmd(config: str | None = typer.Option(None, "--config", help="Print this flow's labeling config.")) -> None:
        """List the flows (or print one's labeling config)."""
        from annotation.flows import FLOWS, get_flow

        if config:
            f = get_flow(config)
            typer.echo(f.label_config(f.params({})))
            return
        for f in FLOWS.values():
            typer.echo(f"{f.name:15s} -> {f.export_file:22s} {f.description}")

    @annotate.command("push")
    def push_cmd(
        flow: str = typer.Argument(..., help="dialog_state, query_rewrite, discourse, summary or privacy_check."),
        src: list[str] = typer.Option(
            ..., "--from", help="Build output folder(s) or Parquet file(s) (turns, images, dialog_states, products)."
        ),
        project: str = ProjectOpt,
        candidates: str | None = typer.Option(None, "--candidates", help="privacy_check: privacy_candidates Parquet or JSONL."),
        slots: str | None = typer.Option(None, "--slots", help="dialog_state: comma-separated slot keys (default: from the catalogue)."),
        group_size: int = typer.Option(100, "--group-size", help="Sessions per QC group (fixed when the project is created)."),
        batch_size: int = typer.Option(100, "--batch-size"),
        dead_out: str | None = typer.Option(None, "--dead-letters", help="Write input records that could not become tasks here (JSONL)."),
        url: str | None = UrlOpt,
        data_dir: str | None = DataDirOpt,
    ) -> None:
        """Push a flow's tasks built from Parquet; re-pushing creates no duplicates (content-hash identity)."""
        from annotation.client import ConfigError
        from annotation.flows import get_flow
        from annotation.sync import SyncError, push
        from annotation.tasks import load_records, load_tables

        try:
            get_flow(flow)
            tables = load_tables(*src)
        except (KeyError, FileNotFoundError) as exc:
            _fail(str(exc))
        options: dict = {}
        if candidates:
            options["candidates"] = load_records(candidates)
        if slots:
            options["params"] = {"slots": [s.strip() for s in slots.split(",") if s.strip()]}
        client = connect(url, data_dir)
        try:
            rep = push(client, flow, tables, project, options, batch_size=batch_size, group_size=group_size)
        except (SyncError, ConfigError, ValueError) as exc:
            _fail(str(exc))
        if dead_out and rep.dead:
            with open(dead_out, "w", encoding="utf-8") as fh:
                for d in rep.dead:
                    fh.write(json.dumps(d, ensure_ascii=False, sort_keys=True) + "\n")
        _echo_json(rep.summary())
        for d in rep.dead[:5]:
            typer.echo(f"dead letter: {d['locator']}: {d['reason']}", err=True)

    @annotate.command("pull")
    def pull_cmd(
        project: str = ProjectOpt,
        out: str = typer.Option(..., "--out", help="Output folder (tables, the flow's JSONL, pull.json)."),
        url: str | None = UrlOpt,
        data_dir: str | None = DataDirOpt,
    ) -> None:
        """Pull annotations through an export snapshot into Parquet tables and the flow's exchange-format JSONL (docs/exchange-formats.md)."""
        from annotation.sync import SyncError, pull

        client = connect(url, data_dir)
        try:
            rep = pull(client, project, out)
        except SyncError as exc:
            _fail(str(exc))
        _echo_json(rep.summary())

    def _frac(x: float) -> Fraction:
        return Fraction(str(x))

    @qcapp.command("sample")
    def qc_sample(
        project: str = ProjectOpt,
        seed: int = typer.Option(0, "--seed"),
        fraction: float = typer.Option(0.1, "--fraction"),
        include_partial: bool = typer.Option(
            False, "--include-partial", help="Also sample the last group when it has fewer sessions than the group size."
        ),
        url: str | None = UrlOpt,
        data_dir: str | None = DataDirOpt,
    ) -> None:
        """Draw the seeded sample of every fully annotated group into the review project PROJECT-qc."""
        from annotation import qc

        _echo_json(qc.sample(connect(url, data_dir), project, seed=seed, fraction=_frac(fraction), include_partial=include_partial))

    @qcapp.command("report")
    def qc_report(
        project: str = ProjectOpt,
        threshold: float = typer.Option(0.9, "--threshold"),
        fraction: float = typer.Option(0.1, "--fraction"),
        json_out: str | None = typer.Option(None, "--json", help="Also write the report as JSON here."),
        url: str | None = UrlOpt,
        data_dir: str | None = DataDirOpt,
    ) -> None:
        """Acceptance rate and pass/fail per group, and the rule's operating characteristic."""
        from rich.console import Console
        from rich.table import Table

        from annotation import qc

        rep = qc.report(connect(url, data_dir), project, threshold=_frac(threshold), fraction=_frac(fraction))
        if json_out:
            with open(json_out, "w", encoding="utf-8") as fh:
                json.dump(rep, fh, indent=2, sort_keys=True)
        console = Console()
        t = Table(title=f"QC of {project} ({rep['flow']}): groups of {rep['group_size']}, pass at >= {rep['threshold']:.0%} accepted")
        for col in ("group", "tasks", "done", "round", "sampled round", "sample", "reviewed", "accepted", "rate", "status"):
            t.add_column(col)
        for g in rep["groups"]:
            rounds = g["rounds"] or [None]
            for r in rounds:
                rate = "" if not r or r["rate"] is None else f"{r['rate']:.0%}"
                t.add_row(
                    str(g["group"]),
                    str(g["tasks"]),
                    str(g["done"]),
                    str(g["round"]),
                    *(
                        ("", "", "", "", rate)
                        if r is None
                        else (str(r["round"]), str(r["sample"]), str(r["reviewed"]), str(r["accepted"]), rate)
                    ),
                    g["qc"] if r is rounds[-1] else r["status"],
                )
        console.print(t)
        oc = Table(title="Operating characteristic: P(group passes | true acceptance p)")
        for col in ("p", "sample n", "pass mark", "binomial", "hypergeometric (N = group size)"):
            oc.add_column(col)
        for r in rep["operating_characteristic"]:
            oc.add_row(
                f"{r['p']:.2f}", str(r["sample"]), str(r["pass_mark"]), f"{r['p_pass_binomial']:.4f}", f"{r['p_pass_hypergeometric']:.4f}"
            )
        console.print(oc)

    @qcapp.command("requeue")
    def qc_requeue(project: str = ProjectOpt, url: str | None = UrlOpt, data_dir: str | None = DataDirOpt) -> None:
        """Re-queue the tasks of every failed group for re-annotation (earlier annotations kept as history)."""
        from annotation import qc

        _echo_json(qc.requeue(connect(url, data_dir), project))

    @annotate.command("status")
    def status_cmd(
        project: str | None = typer.Option(None, "--project"), url: str | None = UrlOpt, data_dir: str | None = DataDirOpt
    ) -> None:
        """Done and total per flow (and per QC group with --project), and the QC state."""
        from annotation import status

        client = connect(url, data_dir)
        if project:
            _echo_json(status.project_status(client, project))
        else:
            _echo_json(status.overview(client))
