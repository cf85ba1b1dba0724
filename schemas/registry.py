"""Table registry: every Parquet table mmdial writes is declared once, here or in a sibling module.

A `Table` couples a pyarrow schema with a version and field docs. Pipelines write with
`Table.schema_with_metadata()`, readers check `Table.version_of(file)`, and docs/schemas.md is
generated from the registry (a test keeps the two in sync).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pyarrow as pa

METADATA_KEY = b"mmdial.schema"


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    doc: str
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    """One versioned table. Bump `version` on any change a reader could notice."""

    name: str
    version: int
    doc: str
    columns: tuple[Column, ...]
    sort_key: tuple[str, ...] = ()
    group: str = "core"
    _schema: pa.Schema = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        fields = [pa.field(c.name, c.type, nullable=c.nullable) for c in self.columns]
        object.__setattr__(self, "_schema", pa.schema(fields))

    @property
    def schema(self) -> pa.Schema:
        return self._schema

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def metadata(self) -> dict[bytes, bytes]:
        return {METADATA_KEY: json.dumps({"table": self.name, "version": self.version}).encode()}

    def schema_with_metadata(self) -> pa.Schema:
        return self._schema.with_metadata(self.metadata())

    def to_arrow(self, rows: list[dict]) -> pa.Table:
        """Build an Arrow table from row dicts, rejecting unknown keys (typos are bugs)."""
        extra = set().union(*rows) - set(self.column_names) if rows else set()  # one C-level pass over the keys
        if extra:
            raise ValueError(f"{self.name}: unknown column(s) {sorted(extra)}")
        return pa.Table.from_pylist(rows, schema=self.schema_with_metadata())

    def empty(self) -> pa.Table:
        return self.schema_with_metadata().empty_table()


_TABLES: dict[str, Table] = {}


def register(table: Table) -> Table:
    if table.name in _TABLES and _TABLES[table.name] != table:
        raise ValueError(f"table {table.name!r} registered twice with different definitions")
    _TABLES[table.name] = table
    return table


def get(name: str) -> Table:
    _load_all()
    try:
        return _TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; known: {sorted(_TABLES)}") from None


def all_tables() -> dict[str, Table]:
    _load_all()
    return dict(sorted(_TABLES.items()))


def version_of(schema: pa.Schema) -> tuple[str, int] | None:
    """Read the (table, version) stamp from a Parquet/Arrow schema, if present."""
    meta = schema.metadata or {}
    raw = meta.get(METADATA_KEY)
    if raw is None:
        return None
    info = json.loads(raw)
    return info["table"], int(info["version"])


# Modules that declare tables. Adding a data set or feature = adding its module here.
TABLE_MODULES = ("schemas.core", "schemas.jddc", "schemas.redial", "schemas.annotation", "schemas.privacy", "schemas.modeling")


def _load_all() -> None:
    import importlib

    for module in TABLE_MODULES:
        importlib.import_module(module)
