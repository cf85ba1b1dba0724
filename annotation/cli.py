"""`mmdial annotate ...`: server, push, pull, qc, status, flows.

Where the server is: `--data-dir` (or $MMDIAL_LS_DATA_DIR) of a server started by `mmdial annotate
server start` gives its URL and token file; otherwise `--url` (or $MMDIAL_LS_URL) and a token from
$MMDIAL_LS_TOKEN or $MMDIAL_LS_TOKEN_FILE (a 0600 file). There is deliberately no --token option:
a token on a command line is visible to every user of the machine.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from fractions import Fraction

import typer

DataDirOpt = typer.Option(
    None,
    "--data-dir",
    envvar="MMDIAL_LS_DATA_DIR",
    help="Data directory of a server started by `mmdial annotate server start` (default ~/.local/share/mmdial/label-studio).",
)
UrlOpt = typer.Option(
    None, "--url", envvar="MMDIAL_LS_URL", help="Label Studio URL (token from $MMDIAL_LS_TOKEN or $MMDIAL_LS_TOKEN_FILE)."
)
ProjectOpt = typer.Option(..., "--project", help="Label Studio project title.")


def _fail(msg: str, code: int = 2):
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code)


@contextmanager
def one_line_errors():
    """What a user can cause (server down, wrong token, bad input, unknown project) ends in one line, exit 2."""
    from annotation.client import AuthError, ConfigError, RequestRefused, ServerDown, TransientError
    from annotation.credentials import CredentialError
    from annotation.projects import SyncError
    from annotation.tasks import InputError

    try:
        yield
    except (SyncError, ConfigError, RequestRefused, AuthError, ServerDown, TransientError, InputError, CredentialError) as exc:
        _fail(" ".join(str(exc).split()))
    except KeyError as exc:  # unknown flow
        _fail(str(exc.args[0]) if exc.args else str(exc))


def _server(data_dir: str | None, port: int = 0, public_url: str | None = None, private_object_store: bool = False):
    from annotation.server import LabelStudioServer, ServerConfig, default_data_dir

    cfg = ServerConfig(data_dir=data_dir or default_data_dir(), port=port, public_url=public_url, private_object_store=private_object_store)
    return LabelStudioServer(cfg)


def connect(url: str | None, data_dir: str | None):
    from annotation import credentials
    from annotation.client import LSClient
    from annotation.server import ServerError, default_data_dir

    default_token_file = state_file = local_data_dir = None
    if not data_dir and not url and os.path.exists(os.path.join(default_data_dir(), "mmdial", "server.json")):
        data_dir = default_data_dir()  # the server `mmdial annotate server start` started without --data-dir
    if data_dir:
        srv = _server(data_dir)
        default_token_file = srv.token_file
        state_file = srv.projects_file
        local_data_dir = srv.data_dir
        if not url:
            try:
                url = srv.url
            except ServerError as exc:
                _fail(str(exc))
            if not srv.status()["running"]:  # known at once: no minutes of retries against a dead port
                _fail(f"the Label Studio server of {srv.data_dir} is not running (`mmdial annotate server start --data-dir {data_dir}`)")
    if not url:
        _fail("no server: give --data-dir of a server started by mmdial, or --url with $MMDIAL_LS_TOKEN")
    with one_line_errors():
        token = credentials.resolve_token(default_token_file)
        client = LSClient(url, token, state_file=state_file, data_dir=local_data_dir)
        client.check()
    return client


def read_selection(path: str) -> set[str]:
    """Units or sessions named by a JSONL proposal (`mmdial select`: {"dialog_id": ...}) or a plain list, one per line."""
    from annotation.tasks import InputError

    keys = ("unit", "dialog_id", "session_id", "image_id")
    out: set[str] = set()
    try:
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                line = line.strip()
                if not line:
                    continue
                if not line.startswith("{"):
                    out.add(line)
                    continue
                rec = json.loads(line)
                hit = next((rec[k] for k in keys if k in rec), None)
                if hit is None:
                    raise InputError(f"{path}:{n}: a selection line needs one of {', '.join(keys)}")
                out.add(str(hit))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable selection ({' '.join(str(exc).split())[:160]})") from None
    return out


def _acceptance_project(client, project: str) -> bool:
    from annotation import acceptance
    from annotation.projects import find_project

    return acceptance.is_acceptance(find_project(client, project))


def _acceptance_report(client, project: str, json_out: str | None) -> None:
    """`qc report` of a masked-image acceptance project: groups and the residual estimate."""
    import shutil

    from rich.console import Console
    from rich.table import Table

    from annotation import acceptance

    rep = acceptance.report(client, project)
    if json_out:
        from pipelines.core.io import write_json_atomic

        write_json_atomic(json_out, rep)
    est = rep["estimate"]
    pct = lambda x: "" if x is None else f"{100 * x:.2f}%"  # noqa: E731
    console = Console(width=max(200, shutil.get_terminal_size((200, 24)).columns))
    t = Table(
        title=f"Acceptance of the auto-masked images of {project}: {rep['images']} images, groups of {rep['group_size']}, {rep['pass_rule']}"
    )
    for col in (
        "group",
        "images",
        "sample",
        "reviewed",
        "with residual",
        "status",
        "tasks",
        "answered",
        "residual rate",
        "upper bound 95%",
    ):
        t.add_column(col)
    per = {g["group"]: g for g in est["per_group"]}
    for g in rep["groups"]:
        e = per.get(g["group"], {})
        t.add_row(
            *(str(g[k]) for k in ("group", "images", "sample", "reviewed", "failed")),
            g["qc"],
            str(g["tasks"]),
            str(g["answered"]),
            pct(e.get("residual_rate")),
            pct(e.get("upper_bound_95")),
        )
    console.print(t)
    console.print(
        f"overall (groups with a finished sample: {est['groups']}): {est['failed']} of {est['sampled']} sampled images with residual"
        f" personal data, rate {pct(est['residual_rate']) or 'n/a'}, 95% upper bound {pct(est['upper_bound_95']) or 'n/a'} ({est['method']})"
    )


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
        data_dir: str | None = DataDirOpt,
        port: int = typer.Option(0, "--port", help="Port (0: a free one; a restart reuses the last)."),
        public_url: str | None = typer.Option(
            None, "--public-url", help="https URL of the TLS reverse proxy a remote crowd uses (see annotation/README.md)."
        ),
        private_object_store: bool = typer.Option(
            False,
            "--private-object-store",
            help="Allow an S3 image store on a private address (turns off Label Studio's SSRF protection; trusted crowds only).",
        ),
    ) -> None:
        """Start Label Studio on 127.0.0.1 with DATA_DIR; admin and API token are created without prompts."""
        from annotation.server import ServerError, main_status_line

        srv = _server(data_dir, port, public_url, private_object_store)
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
    def flows_cmd(
        config: str | None = typer.Option(None, "--config", help="Print this flow's labeling config."),
        project: str | None = typer.Option(None, "--project", help="... as this project has it (its slots, its relations)."),
        src: list[str] = typer.Option([], "--from", help="... as a push of these inputs would create it."),
        url: str | None = UrlOpt,
        data_dir: str | None = DataDirOpt,
    ) -> None:
        """List the flows (or print one's labeling config: the project's own with --project, else from --from or the defaults)."""
        from annotation.flows import FLOWS, get_flow
        from annotation.projects import open_project
        from annotation.tasks import load_tables

        if not config:
            for f in FLOWS.values():
                typer.echo(f"{f.name:15s} -> {f.export_file:22s} {f.description}")
            return
        with one_line_errors():
            f = get_flow(config)
            if project:
                info = open_project(connect(url, data_dir), project)
                if info.flow != f.name:
                    _fail(f"project {project!r} is a {info.flow} project, not {f.name}")
                params = info.params
            else:
                params = f.params(load_tables(*src) if src else {})
        typer.echo(f.label_config(params))

    @annotate.command("push")
    def push_cmd(
        flow: str = typer.Argument(..., help="dialog_state, query_rewrite, discourse, summary or privacy_check."),
        more_src: list[str] = typer.Argument(
            None, help="More inputs (so that `--from A B` works like `--from A --from B`).", show_default=False
        ),
        src: list[str] = typer.Option(
            ..., "--from", help="Build output folder(s) or Parquet file(s) (turns, images, dialog_states, products)."
        ),
        project: str = ProjectOpt,
        only: str | None = typer.Option(
            None, "--only", help="Push only these units/sessions: an `mmdial select` proposal (JSONL) or a list, one per line."
        ),
        allow_unchecked_images: bool = typer.Option(
            False, "--allow-unchecked-images", help="Push images the privacy stage has not cleared (masked/manual_masked/clean)."
        ),
        without_images: bool = typer.Option(False, "--without-images", help="Push tasks whose images the inputs lack, without them."),
        allow_raw_text: bool = typer.Option(
            False, "--allow-raw-text", help="Push dialogue text that was not de-identified (`mmdial build --deidentify-text`)."
        ),
        candidates: str | None = typer.Option(None, "--candidates", help="privacy_check: privacy_candidates Parquet or JSONL."),
        slots: str | None = typer.Option(None, "--slots", help="dialog_state: comma-separated slot keys (default: from the catalogue)."),
        group_size: int = typer.Option(100, "--group-size", help="Sessions per QC group (fixed when the project is created)."),
        sample_masked: bool = typer.Option(
            False,
            "--sample-masked",
            help="privacy_check: the acceptance check of the auto-masked images: push a seeded sample of each group (see `qc report`).",
        ),
        seed: int = typer.Option(0, "--seed", help="--sample-masked: the seed of the draw (fixed when the project is created)."),
        fraction: float = typer.Option(0.1, "--fraction", help="--sample-masked: share of each group drawn (fixed at creation)."),
        batch_size: int = typer.Option(100, "--batch-size"),
        dead_out: str | None = typer.Option(None, "--dead-letters", help="Write input records that could not become tasks here (JSONL)."),
        url: str | None = UrlOpt,
        data_dir: str | None = DataDirOpt,
    ) -> None:
        """Push a flow's tasks built from Parquet; re-pushing creates no duplicates (content-hash identity).

        Refused by default: images not cleared by the privacy stage, tasks whose images the inputs lack,
        and dialogue text that was not de-identified.
        """
        from annotation.flows import get_flow
        from annotation.sync import push
        from annotation.tasks import load_records, load_tables

        options: dict = {}
        with one_line_errors():
            get_flow(flow)
            tables = load_tables(*src, *(more_src or []))
            if flow != "privacy_check" and not allow_raw_text:  # dialogue text in front of crowd annotators
                from pipelines.privacy.text_guard import refusal

                if msg := refusal([*src, *(more_src or [])], tables):
                    _fail(msg)
            selection = read_selection(only) if only else None
            if candidates:
                options["candidates"] = load_records(candidates)
        if slots:
            options["params"] = {"slots": [s.strip() for s in slots.split(",") if s.strip()]}
        if sample_masked and (flow != "privacy_check" or candidates or only):
            _fail("--sample-masked goes with the privacy_check flow only, without --candidates or --only")
        client = connect(url, data_dir)
        if sample_masked:
            from annotation import acceptance

            with one_line_errors():
                _echo_json(acceptance.sample(client, tables, project, seed, _frac(fraction), group_size, batch_size))
            return
        with one_line_errors():
            try:
                rep = push(
                    client,
                    flow,
                    tables,
                    project,
                    options,
                    batch_size=batch_size,
                    group_size=group_size,
                    only=selection,
                    allow_unchecked_images=allow_unchecked_images,
                    without_images=without_images,
                )
            except ValueError as exc:
                _fail(str(exc))
        for w in rep.warnings:
            typer.echo(f"warning: {w}", err=True)
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
        from annotation.sync import pull

        client = connect(url, data_dir)
        with one_line_errors():
            rep = pull(client, project, out)
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

        client = connect(url, data_dir)
        with one_line_errors():
            if _acceptance_project(client, project):
                _fail(f"project {project!r} checks auto-masked images: its sample is drawn by `push privacy_check --sample-masked`")
            _echo_json(qc.sample(client, project, seed=seed, fraction=_frac(fraction), include_partial=include_partial))

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
        import shutil

        from rich.console import Console
        from rich.table import Table

        from annotation import qc

        client = connect(url, data_dir)
        with one_line_errors():
            if _acceptance_project(client, project):
                return _acceptance_report(client, project, json_out)
            rep = qc.report(client, project, threshold=_frac(threshold), fraction=_frac(fraction))
        if json_out:
            with open(json_out, "w", encoding="utf-8") as fh:
                json.dump(rep, fh, indent=2, sort_keys=True)
        # never cut at 80 columns (rich's width when not on a terminal): a person or a file reads it whole
        console = Console(width=max(200, shutil.get_terminal_size((200, 24)).columns))
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
    def qc_requeue(
        project: str = ProjectOpt,
        src: list[str] = typer.Option(
            None, "--from", help="Masked-image acceptance projects: the masked build, whose failed groups are pushed in full."
        ),
        url: str | None = UrlOpt,
        data_dir: str | None = DataDirOpt,
    ) -> None:
        """Re-queue the tasks of every failed group for re-annotation (earlier annotations kept as history);
        for a masked-image acceptance project, push every image of each failed group for review."""
        from annotation import qc

        client = connect(url, data_dir)
        with one_line_errors():
            if _acceptance_project(client, project):
                from annotation import acceptance
                from annotation.tasks import load_tables

                if not src:
                    _fail(f"project {project!r} checks auto-masked images: name the masked build with --from")
                _echo_json(acceptance.requeue(client, project, load_tables(*src)))
                return
            if src:
                _fail("--from is for masked-image acceptance projects only")
            _echo_json(qc.requeue(client, project))

    @annotate.command("status")
    def status_cmd(
        project: str | None = typer.Option(None, "--project"), url: str | None = UrlOpt, data_dir: str | None = DataDirOpt
    ) -> None:
        """Done and total per flow (and per QC group with --project), and the QC state."""
        from annotation import status

        client = connect(url, data_dir)
        with one_line_errors():
            _echo_json(status.project_status(client, project) if project else status.overview(client))
