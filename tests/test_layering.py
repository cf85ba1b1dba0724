"""Layering: a data set's package imports the build core, schemas and shared stages, never another
data set's package (what two data sets share belongs in pipelines/core)."""

from __future__ import annotations

import ast

from pipelines.cli.main import DATASETS
from tests.conftest import REPO


def _imports(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_no_data_set_imports_another_data_set():
    assert set(DATASETS) >= {"mmd", "simmc", "jddc", "redial"}
    crossings = []
    for ds in DATASETS:
        for path in sorted((REPO / "pipelines" / ds).rglob("*.py")):
            if path.name.startswith("test_"):
                continue  # tests may borrow another data set's generator
            for name in _imports(path):
                parts = name.split(".")
                if len(parts) > 1 and parts[0] == "pipelines" and parts[1] in DATASETS and parts[1] != ds:
                    crossings.append(f"{path.relative_to(REPO)} imports {name}")
    assert not crossings, crossings
