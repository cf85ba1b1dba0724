import pyarrow as pa
import pytest

from schemas import DIALOG_STATES, TURNS, all_tables, get, version_of
from schemas.core import SPLIT_SHARED, pairs_to_dict
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


def test_slots_are_key_value_structs_every_reader_knows():
    rows = [{"dataset": "x", "dialog_id": "d", "split": "train", "turn_index": 2, "slots": [("color", "red")], "source": "gold"}]
    t = DIALOG_STATES.to_arrow(rows)
    assert t.column("slots").to_pylist() == [[{"key": "color", "value": "red"}]]
    assert pairs_to_dict(t.column("slots")[0].as_py()) == {"color": "red"}
    assert pairs_to_dict(None) is None and pairs_to_dict([("a", "b")]) == {"a": "b"}


def test_no_table_uses_a_map_type_or_the_reserved_split_name():
    """Hugging Face `datasets` has no dtype for Arrow maps and reserves the split name `all`."""

    def has_map(typ) -> bool:
        if pa.types.is_map(typ):
            return True
        if pa.types.is_list(typ) or pa.types.is_large_list(typ) or pa.types.is_fixed_size_list(typ):
            return has_map(typ.value_type)
        if pa.types.is_struct(typ):
            return any(has_map(typ.field(i).type) for i in range(typ.num_fields))
        return False

    for name, table in all_tables().items():
        assert not any(has_map(f.type) for f in table.schema), name
    assert SPLIT_SHARED != "all"
