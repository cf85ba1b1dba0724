import pyarrow as pa
import pytest

from schemas import DIALOG_STATES, TURNS, all_tables, get, version_of
from schemas.docs import render
from tests.conftest import REPO


def test_docs_match_code():
    assert (REPO / "docs" / "schemas.md").read_text() == render(), "regenerate: python -m schemas.docs > docs/schemas.md"


def test_every_table_is_versioned_and_documented():
    tables = all_tables()
    for name in ("dialogs", "turns", "images", "products", "rec_samples", "dialog_states", "dead_letters"):
        assert name in tables
    for table in tables.values():
        assert table.version >= 1
        assert all(c.doc for c in table.columns), table.name
        assert version_of(table.empty().schema) == (table.name, table.version)
        assert set(table.sort_key) <= set(table.column_names)


def test_to_arrow_rejects_unknown_columns_and_wrong_types():
    row = {"dataset": "x", "dialog_id": "d", "split": "train", "turn_index": 0, "speaker": "user", "text": "hi"}
    assert TURNS.to_arrow([row]).num_rows == 1
    with pytest.raises(ValueError, match="unknown column"):
        TURNS.to_arrow([{**row, "txt": "typo"}])
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError)):
        TURNS.to_arrow([{**row, "turn_index": "zero"}])
    with pytest.raises(KeyError):
        get("no_such_table")


def test_slots_are_a_map():
    rows = [{"dataset": "x", "dialog_id": "d", "split": "train", "turn_index": 2, "slots": [("color", "red")], "source": "gold"}]
    t = DIALOG_STATES.to_arrow(rows)
    assert t.column("slots").to_pylist() == [[("color", "red")]]
