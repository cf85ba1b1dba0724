"""One throwaway Label Studio server per test session, plus synthetic Parquet inputs.

The server is started by the same code as `mmdial annotate server start` (annotation.server), in a
temporary data directory, on a free port of 127.0.0.1. A migrated empty database is cached in
pytest's cache folder (keyed by the Label Studio version), so only the first session on a machine
pays for the migrations. `make test` creates .venv-ls; set $MMDIAL_LABEL_STUDIO to use another one.
"""

from __future__ import annotations

import os
import uuid

import cv2
import numpy as np
import pytest

from annotation.client import LSClient, RetryPolicy
from annotation.server import LabelStudioServer, ServerConfig, default_executable, label_studio_fingerprint, migrate_template
from schemas import get


@pytest.fixture(scope="session")
def ls_server(tmp_path_factory, request):
    exe = default_executable()
    if not os.path.exists(exe):
        pytest.fail(f"Label Studio not installed at {exe}: run `make .venv-ls/.installed` or set $MMDIAL_LABEL_STUDIO")
    saved = {k: os.environ.pop(k) for k in ("MMDIAL_LS_TOKEN", "MMDIAL_LS_TOKEN_FILE", "MMDIAL_LS_URL", "MMDIAL_LS_DATA_DIR") if k in os.environ}
    cache = request.config.cache.mkdir(f"mmdial-label-studio-{label_studio_fingerprint(exe)}")
    template = migrate_template(str(cache), exe)
    server = LabelStudioServer(ServerConfig(data_dir=str(tmp_path_factory.mktemp("label-studio")), executable=exe, template_db=template))
    server.start()
    yield server
    server.stop()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def ls_client(ls_server) -> LSClient:
    return LSClient(ls_server.url, ls_server.token(), retry=RetryPolicy(deadline_s=240))


@pytest.fixture
def project_name(request) -> str:
    return f"{request.node.name[:40]}-{uuid.uuid4().hex[:6]}"


# -- synthetic inputs written with the schemas ------------------------------------------------
def jpeg(seed: int, size: int = 48) -> bytes:
    img = np.full((size, size, 3), 40 + (seed * 37) % 200, np.uint8)
    cv2.putText(img, str(seed % 10), (8, size - 10), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


def jddc_tables(n_sessions: int, dataset: str = "jddc") -> dict:
    """JDDC-like sessions: user text, user image, system text, user text (+image every other session), system text."""
    import hashlib

    turns, images = [], {}
    for s in range(n_sessions):
        sid = f"S{s:04d}"
        rows = [
            ("user", "你好，我买的电饭煲有问题", []),
            ("user", "", [s * 2]),
            ("system", "您好，请问是哪里有问题呢？", []),
            ("user", "屏幕显示E3，看图" if s % 2 == 0 else "好的谢谢", [s * 2 + 1] if s % 2 == 0 else []),
            ("system", "这是温度传感器故障，可以申请售后维修。", []),
        ]
        for i, (speaker, text, imgs) in enumerate(rows):
            ids = []
            for k in imgs:
                data = jpeg(k)
                iid = hashlib.sha256(data).hexdigest()
                images[iid] = {"dataset": dataset, "image_id": iid, "split": "all", "source_key": f"{hashlib.md5(data).hexdigest()}.jpg", "uri": None, "data": data, "width": 48, "height": 48, "format": "jpeg", "source": "file", "privacy_status": "unchecked", "privacy_audit": None}
                ids.append(iid)
            turns.append({"dataset": dataset, "dialog_id": sid, "split": "train", "turn_index": i, "speaker": speaker, "text": text, "text_templated": None, "image_refs": [images[x]["source_key"] for x in ids], "image_ids": ids, "item_ids": [], "annotations": None})
    return {"turns": get("turns").to_arrow(turns), "images": get("images").to_arrow(sorted(images.values(), key=lambda r: r["image_id"]))}
