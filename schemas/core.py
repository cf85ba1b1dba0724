"""The tables every data set shares: dialogs, turns, images, products, recommendation samples,
dialog states, plus the two bookkeeping tables (dead letters, missing images).

Conventions:
- ids are strings; `dialog_id` is unique within a `dataset`.
- `turn_index` is the 0-based position of a row in its dialog's `turns` (source order, one row per
  source utterance or message; SIMMC's user+assistant pair becomes two rows).
- `split` is one of the data set's split names (train/valid/test, plus data set specific ones);
  tables that are not dialog-scoped (images, products) use the split `shared` (`SPLIT_SHARED`).
- string -> string mappings are `KEY_VALUES` (list of key/value structs), never Arrow maps.
- `image_id` has one definition, `images.image_id`; every other column of that name refers to it.
- JSON-valued columns hold the source's own structure verbatim (`json.dumps`, sorted keys).
"""

from __future__ import annotations

import pyarrow as pa

from schemas.registry import Column, Table, register

STR = pa.string()
STRS = pa.list_(pa.string())
I32 = pa.int32()
#: a string -> string mapping as a list of key/value structs: every Parquet reader (Hugging Face
#: `datasets`, polars, duckdb, Spark) reads it, which is not true of Arrow's map type
KEY_VALUES = pa.list_(pa.struct([pa.field("key", pa.string(), nullable=False), pa.field("value", pa.string())]))

SPEAKERS = ("user", "system")
STATE_SOURCES = ("gold", "annotated", "predicted")
PRIVACY_STATUSES = ("unchecked", "masked", "clean", "manual_masked", "quarantined")
#: the split name of tables that are not dialog-scoped (images, products, catalogue and bookkeeping
#: tables). Not `all`: Hugging Face `datasets` reserves that name for "every split".
SPLIT_SHARED = "shared"


def pairs_to_dict(value) -> dict[str, str] | None:
    """A KEY_VALUES cell as Python reads it back (a list of {"key", "value"} dicts, or of
    (key, value) pairs) as a plain dict; a dict is copied and None stays None."""
    if value is None:
        return None
    if isinstance(value, dict):
        return dict(value)
    return dict((kv["key"], kv["value"]) if isinstance(kv, dict) else kv for kv in value)


def _dataset() -> Column:
    return Column("dataset", STR, "Data set name: mmd, mmd-v3, simmc, jddc, redial, inspired.", nullable=False)


def _dialog_id() -> Column:
    return Column("dialog_id", STR, "Dialog (session, conversation) id, unique within the data set.", nullable=False)


def _split() -> Column:
    return Column("split", STR, "Split name (train, valid, test, ... ; `shared` for tables that are not dialog-scoped).", nullable=False)


DIALOGS = register(
    Table(
        name="dialogs",
        version=1,
        doc="One row per dialog.",
        columns=(
            _dataset(),
            _dialog_id(),
            _split(),
            Column("source", STR, "Source file of the dialog, relative to the raw root."),
            Column("num_turns", I32, "Number of rows this dialog has in `turns`.", nullable=False),
            Column("domain", STR, "Domain or category (fashion, furniture, shop type), where the source has one."),
            Column("meta", STR, "Data set specific dialog fields as JSON (scene ids, worker ids, SKU, ...)."),
        ),
        sort_key=("dialog_id",),
    )
)

TURNS = register(
    Table(
        name="turns",
        version=1,
        doc="One row per utterance or message, in source order.",
        columns=(
            _dataset(),
            _dialog_id(),
            _split(),
            Column("turn_index", I32, "0-based position in the dialog.", nullable=False),
            Column("speaker", STR, "Normalised speaker: `user` or `system`.", nullable=False),
            Column("text", STR, "Utterance text as in the source (UTF-8, untokenised; '' for image-only turns).", nullable=False),
            Column("text_templated", STR, "Text with item mentions replaced by placeholders (ReDial `[PH]`), else null."),
            Column("image_refs", STRS, "Image references exactly as the source gives them (URL, id or file name)."),
            Column(
                "image_ids",
                STRS,
                "Content-hash ids (`images.image_id`) of the refs that resolved, in order; unresolved refs are left out and listed in `missing_images`.",
            ),
            Column("item_ids", STRS, "Catalogue items (products, movies) mentioned in this turn."),
            Column("annotations", STR, "The source's own per-turn annotations as JSON (acts, slots, question types), else null."),
        ),
        sort_key=("dialog_id", "turn_index"),
    )
)

IMAGES = register(
    Table(
        name="images",
        version=2,
        doc="One row per distinct image file (or product crop); shared across splits (split `shared`).",
        columns=(
            _dataset(),
            Column(
                "image_id",
                STR,
                "sha256 hex digest of the image bytes as the source has them (the unmasked original; the raw "
                "bytes when they do not decode). It stays the same when the privacy stage masks `data`, so "
                "`turns.image_ids` keep pointing at it. Every other `image_id` column is this id.",
                nullable=False,
            ),
            _split(),
            Column("source_key", STR, "The key the source uses for this image (file name, crop key).", nullable=False),
            Column("uri", STR, "Where the bytes came from (path or URL)."),
            Column("data", pa.binary(), "Encoded image bytes (JPEG/PNG), or null when only the URI is kept."),
            Column("width", I32, "Width in pixels."),
            Column("height", I32, "Height in pixels."),
            Column("format", STR, "Image format: jpeg, png, ..."),
            Column("source", STR, "How the image was obtained: file, crop, masked, ..."),
            Column("privacy_status", STR, "One of " + ", ".join(PRIVACY_STATUSES) + ".", nullable=False),
            Column(
                "privacy_audit",
                STR,
                "JSON audit record of the masking that produced `data` (boxes, entity types, engine, policy), else null.",
            ),
        ),
        sort_key=("image_id", "source_key"),
    )
)

PRODUCTS = register(
    Table(
        name="products",
        version=2,
        doc="One row per catalogue item (product, scene object, movie); split `shared`.",
        columns=(
            _dataset(),
            Column("product_id", STR, "Catalogue id; what `rec_samples.positive_ids` and `negative_ids` hold.", nullable=False),
            _split(),
            Column("name", STR, "Product name or title, where the source has one."),
            Column("category", STR, "Category or type (taxonomy, assetType, genre)."),
            Column("attributes", KEY_VALUES, "Attribute name and value pairs (values stringified), sorted by name."),
            Column("description", STR, "Flattened `key: value; key: value` text used by text encoders.", nullable=False),
            Column("image_refs", STRS, "Image references as the source gives them."),
            Column("image_ids", STRS, "Content-hash ids of the product's images that resolved."),
            Column("source", STR, "Source file or key."),
        ),
        sort_key=("product_id",),
    )
)

CONTEXT_TURN = pa.struct(
    [
        pa.field("turn_index", I32),
        pa.field("speaker", STR),
        pa.field("text", STR),
        pa.field("image_ids", STRS),
        pa.field("image_refs", STRS),
    ]
)

REC_SAMPLES = register(
    Table(
        name="rec_samples",
        version=1,
        doc="One row per recommendation turn: the context before it and the candidate items.",
        columns=(
            _dataset(),
            Column("sample_id", STR, "`<dialog_id>:<turn_index>`.", nullable=False),
            _dialog_id(),
            _split(),
            Column("turn_index", I32, "Index in `turns` of the turn that recommends (MMD: the system image turn).", nullable=False),
            Column(
                "context",
                pa.list_(CONTEXT_TURN),
                "Preceding turns, consecutive same-speaker utterances merged (text joined by a space, images "
                "concatenated), oldest first; `turn_index` is the first merged utterance. At most the build's "
                "`context_turns` (default 10) are kept; the full history is `turns` with index < `turn_index`.",
            ),
            Column("context_start", I32, "turn_index of the oldest utterance covered by `context`.", nullable=False),
            Column("positive_ids", STRS, "Product ids of the relevant items.", nullable=False),
            Column("negative_ids", STRS, "Product ids of the non-relevant candidates (empty when the source has none).", nullable=False),
            Column("num_positives", I32, "len(positive_ids).", nullable=False),
            Column("num_negatives", I32, "len(negative_ids).", nullable=False),
        ),
        sort_key=("dialog_id", "turn_index"),
    )
)

DIALOG_STATES = register(
    Table(
        name="dialog_states",
        version=2,
        doc="Belief state (slot to value) at a user turn; slot keys are catalogue attributes.",
        columns=(
            _dataset(),
            _dialog_id(),
            _split(),
            Column("turn_index", I32, "Index in `turns` of the user turn the state holds after.", nullable=False),
            Column(
                "slots",
                KEY_VALUES,
                "Slot key and value pairs for the slots mentioned so far, sorted by key; absent keys mean `none`.",
            ),
            Column("source", STR, "One of " + ", ".join(STATE_SOURCES) + ".", nullable=False),
            Column("annotator", STR, "Who produced it (annotator id, model name), else null."),
            Column("created_at", STR, "ISO-8601 time it was produced, else null."),
        ),
        sort_key=("dialog_id", "turn_index", "source"),
    )
)

DEAD_LETTERS = register(
    Table(
        name="dead_letters",
        version=2,
        doc="Records that could not be used, with why. records in = records out + dead letters.",
        columns=(
            _dataset(),
            _split(),
            Column("stage", STR, "Pipeline stage that rejected it (read, parse, states, ...).", nullable=False),
            Column("source", STR, "Source file.", nullable=False),
            Column("locator", STR, "Where in the source: line number, JSON index, dialog id.", nullable=False),
            Column("reason", STR, "Why it was rejected (exception type and message).", nullable=False),
            Column("excerpt", STR, "The first 500 characters of the raw record."),
        ),
        sort_key=("source", "locator", "stage"),
    )
)

MISSING_IMAGES = register(
    Table(
        name="missing_images",
        version=1,
        doc="Image references that did not resolve to a file; the turn keeps the ref, never a zero image.",
        columns=(
            _dataset(),
            _dialog_id(),
            _split(),
            Column("turn_index", I32, "Turn that references the image (-1 for product images).", nullable=False),
            Column("image_ref", STR, "The reference as in the source.", nullable=False),
            Column("reason", STR, "unmapped (no id/url mapping) or not_found (no file).", nullable=False),
        ),
        sort_key=("dialog_id", "turn_index", "image_ref"),
    )
)
