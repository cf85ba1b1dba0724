"""One throwaway Label Studio server per test session, plus synthetic Parquet inputs.

The server is started by the same code as `mmdial annotate server start` (annotation.server), in a
temporary data directory, on a free port of 127.0.0.1. A migrated empty database is cached in
pytest's cache folder (keyed by the Label Studio version), so only the first session on a machine
pays for the migrations. `make test` creates .venv-ls; set $MMDIAL_LABEL_STUDIO to use another one.
"""

from __future__ import annotations

import os
import uuid

import pytest

from annotation.client import LSClient, RetryPolicy
from annotation.server import LabelStudioServer, ServerConfig, default_executable, label_studio_fingerprint, migrate_template


@pytest.fixture(scope="session")
def ls_server(tmp_path_factory, request):
    exe = default_executable()
    if not os.path.exists(exe):
        pytest.fail(f"Label Studio not installed at {exe}: run `make .venv-ls/.installed` or set $MMDIAL_LABEL_STUDIO")
    saved = {
        k: os.environ.pop(k) for k in ("MMDIAL_LS_TOKEN", "MMDIAL_LS_TOKEN_FILE", "MMDIAL_LS_URL", "MMDIAL_LS_DATA_DIR") if k in os.environ
    }
    name = f"mmdial-label-studio-{label_studio_fingerprint(exe)}"
    # pytest's cache keeps the migrated database between sessions; without it (-p no:cacheprovider) migrate afresh
    cache = request.config.cache.mkdir(name) if getattr(request.config, "cache", None) is not None else tmp_path_factory.mktemp(name)
    template = migrate_template(str(cache), exe)
    server = LabelStudioServer(ServerConfig(data_dir=str(tmp_path_factory.mktemp("label-studio")), executable=exe, template_db=template))
    server.start()
    yield server
    server.stop()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def ls_client(ls_server) -> LSClient:
    return LSClient(
        ls_server.url, ls_server.token(), retry=RetryPolicy(deadline_s=240), state_file=ls_server.projects_file, data_dir=ls_server.data_dir
    )


@pytest.fixture
def project_name(request) -> str:
    """A fresh project title within Label Studio's 50 characters (the QC review project adds "-qc")."""
    return f"{request.node.name[:36]}-{uuid.uuid4().hex[:6]}"
