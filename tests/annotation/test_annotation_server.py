"""The server the tests run: localhost only, secrets never on command lines or in logs."""

from __future__ import annotations

import json
import logging
import os
import stat

import pytest
from annotation_testkit import jddc_tables
from typer.testing import CliRunner

from annotation.client import LSClient
from annotation.flows import FLOWS
from annotation.server import HOST
from annotation.sync import push

pytestmark = [pytest.mark.labelstudio, pytest.mark.slow]  # one real server per session: its start alone takes ~40 s


def test_server_is_local_and_secrets_stay_secret(ls_server, ls_client, project_name, caplog):
    st = ls_server.status()
    assert st["running"] and st["url"].startswith(f"http://{HOST}:")
    token, admin = ls_server.token(), ls_server.admin()
    for f in (ls_server.token_file, ls_server.admin_file):
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600
    assert ls_client.whoami()["email"] == admin["email"]
    with open(f"/proc/{st['pid']}/cmdline", "rb") as fh:
        argv = fh.read().decode()
    assert token not in argv and admin["password"] not in argv and "127.0.0.1" in argv
    # everything logged while talking to the server, at DEBUG, holds no token
    with caplog.at_level(logging.DEBUG):
        push(ls_client, "summary", jddc_tables(1), project_name)
    assert caplog.records and token not in caplog.text
    log = ls_server.log_file.read_text(errors="replace")
    assert "/api/" in log and token not in log and admin["password"] not in log


def test_server_cli_status_and_bad_token(ls_server, monkeypatch):
    from pipelines.cli.main import app

    res = CliRunner().invoke(app, ["annotate", "server", "status", "--data-dir", str(ls_server.data_dir)])
    assert res.exit_code == 0 and "running at http://127.0.0.1:" in res.output
    stopped = CliRunner().invoke(app, ["annotate", "server", "status", "--data-dir", str(ls_server.data_dir) + "-nowhere"])
    assert stopped.exit_code == 3 and "not running" in stopped.output
    monkeypatch.setenv("MMDIAL_LS_DATA_DIR", str(ls_server.data_dir))
    res = CliRunner().invoke(app, ["annotate", "status"])
    assert res.exit_code == 0
    projects = json.loads(res.output)
    assert projects and all(set(p) == {"project", "flow", "total", "done", "requeued"} for p in projects)
    assert all(p["total"] >= p["done"] + p["requeued"] and p["flow"] in FLOWS for p in projects)
    from annotation.client import AuthError

    with pytest.raises(AuthError, match="refuses the API token"):
        LSClient(ls_server.url, "0" * 40).check()
