"""mmdial's table contract: pipelines write these tables, annotation reads and writes them,
modeling reads them. Import tables from here: `from schemas import get, TURNS`."""

from schemas.core import (
    DEAD_LETTERS,
    DIALOG_STATES,
    DIALOGS,
    IMAGES,
    MISSING_IMAGES,
    PRODUCTS,
    REC_SAMPLES,
    TURNS,
)
from schemas.registry import Column, Table, all_tables, get, register, version_of

__all__ = [
    "Column",
    "Table",
    "all_tables",
    "get",
    "register",
    "version_of",
    "DIALOGS",
    "TURNS",
    "IMAGES",
    "PRODUCTS",
    "REC_SAMPLES",
    "DIALOG_STATES",
    "DEAD_LETTERS",
    "MISSING_IMAGES",
]
