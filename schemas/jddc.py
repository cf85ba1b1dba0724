"""JDDC 2.1 tables: the product knowledge base, image categories and the three annotation layers
(query rewriting, discourse parsing, summarisation) of the JDDC 2.1 paper (Zhao et al., EMNLP 2022).

Sessions, messages, images and products go to the shared tables (`dialogs`, `turns`, `images`,
`products`); what only JDDC has lives here. The annotation layers are keyed like `turns`:
an EDU is one row of a session's `turns` (a text or an image message), named by its `turn_index`.

The two constants are the paper's label sets, used by the builder to validate and by the
annotation flows to offer choices:
- `IMAGE_CATEGORIES`: the 15 image sub-categories of Table 4 (`IMAGE_CATEGORY_GROUPS` gives each
  one's category, Screenshot or Photo);
- `DISCOURSE_RELATIONS`: the 3-level relations of Table 12 written `Level1/Level2/Level3`
  (level 3 may itself contain a slash: `Question&Answer/Question/Yes/No`; split with
  `maxsplit=2`). The paper's table spells two level-2 classes "Rely to suggestion" and
  "Rely to promise"; we write "Reply to ..." and `normalise_relation` accepts both spellings.
"""

from __future__ import annotations

import pyarrow as pa

from schemas.core import I32, STR, STRS, _dataset, _dialog_id, _split
from schemas.registry import Column, Table, register

GROUP = "jddc"

# Table 4: category -> sub-categories, in the paper's order.
IMAGE_CATEGORY_TREE: dict[str, tuple[str, ...]] = {
    "Screenshot": (
        "Screenshot of product",
        "Screenshot of product order",
        "Screenshot of logistics order",
        "Screenshot of after-sales service order",
        "Screenshot of text message",
        "Screenshot of user comment",
        "Screenshot of system or software",
        "Screenshot in other scenes",
    ),
    "Photo": (
        "Photo for purchasing consultation",
        "Photo of product with damaged appearance",
        "Photo of products with malfunction",
        "Photo of product with missing items",
        "Photo for product recommendation and comparison",
        "Photo for product installation",
        "Photo of user screen shot",
    ),
}
IMAGE_CATEGORIES: tuple[str, ...] = tuple(s for subs in IMAGE_CATEGORY_TREE.values() for s in subs)
IMAGE_CATEGORY_GROUPS: dict[str, str] = {s: g for g, subs in IMAGE_CATEGORY_TREE.items() for s in subs}

# Table 12: level 1 -> level 2 -> level 3, in the paper's order.
DISCOURSE_TAXONOMY: dict[str, dict[str, tuple[str, ...]]] = {
    "Question&Answer": {
        "Question": ("Yes/No", "SWIH", "Choice"),
        "Answer": ("Affirmation", "Deny", "Hold"),
    },
    "Imperative": {
        "Suggestion": ("Recommend", "Suggestion", "Request"),
        "Reply to suggestion": ("Acceptance", "Rejection"),
    },
    "Promise": {
        "Promise": ("Promise",),
        "Reply to promise": ("Acceptance", "Rejection"),
    },
    "Communication": {
        "Social": ("Social",),
        "Time": ("Suspend",),
        "Expansion": ("Correction", "Completion"),
        "Contact": ("Contact", "Confirm"),
        "Feedback": ("Feedback",),
    },
    "Contingency": {
        "Contingency": (
            "Elaboration",
            "Summary",
            "Restatement",
            "Background",
            "Evaluation",
            "Proof",
            "Cause",
            "Condition",
            "Concession",
            "Solution",
            "Purpose",
            "Coordinate",
        ),
    },
}
DISCOURSE_RELATIONS: tuple[str, ...] = tuple(
    f"{l1}/{l2}/{l3}" for l1, l2s in DISCOURSE_TAXONOMY.items() for l2, l3s in l2s.items() for l3 in l3s
)
_RELATION_ALIASES = {"Rely to suggestion": "Reply to suggestion", "Rely to promise": "Reply to promise"}
_RELATIONS_FOLDED = {r.lower(): r for r in DISCOURSE_RELATIONS}
_CATEGORIES_FOLDED = {" ".join(c.lower().split()): c for c in IMAGE_CATEGORIES}


def split_relation(relation: str) -> tuple[str, str, str]:
    """('Question&Answer', 'Question', 'Yes/No') from 'Question&Answer/Question/Yes/No'."""
    l1, l2, l3 = relation.split("/", 2)
    return l1, l2, l3


def normalise_relation(value: str) -> str | None:
    """The canonical `Level1/Level2/Level3` string, or None when it is not a Table 12 relation.

    Case and spaces around the slashes do not matter; the paper's "Rely to" spelling is accepted."""
    parts = [p.strip() for p in value.split("/", 2)]
    if len(parts) != 3:
        return None
    parts[1] = _RELATION_ALIASES.get(parts[1], parts[1])
    return _RELATIONS_FOLDED.get("/".join(parts).lower())


def normalise_category(value: str) -> str | None:
    """The canonical Table 4 sub-category, or None (case and repeated spaces do not matter)."""
    return _CATEGORIES_FOLDED.get(" ".join(value.lower().split()))


def _annotator() -> Column:
    return Column("annotator", STR, "Annotator id from the input line, else null.")


def _created_at() -> Column:
    return Column("created_at", STR, "ISO-8601 time from the input line, else null.")


def _revision() -> Column:
    return Column(
        "version", I32, "Annotation revision from the input line (default 1); the highest revision per key is kept.", nullable=False
    )


KB_TRIPLES = register(
    Table(
        name="jddc_kb_triples",
        version=2,
        doc="One row per (product, attribute, value) triple of the JDDC knowledge base, exactly as given (exact duplicates dropped and counted). `products` holds the same knowledge pivoted to one row per SKU.",
        columns=(
            _dataset(),
            Column("product_id", STR, "The product's SKU id (what `turns.item_ids` and `dialogs.meta.sku` hold).", nullable=False),
            _split(),
            Column("attribute", STR, "Attribute (relation) name, e.g. 上市时间 or 鞋面材质.", nullable=False),
            Column("value", STR, "Attribute value as text.", nullable=False),
            Column("source", STR, "Knowledge base file and line, `<file>:<line>`."),
        ),
        sort_key=("product_id", "attribute", "value"),
        group=GROUP,
    )
)

IMAGE_CATEGORY_LABELS = register(
    Table(
        name="jddc_image_categories",
        version=2,
        doc="One row per labelled image: its Table 4 sub-category (15 labels, `schemas.jddc.IMAGE_CATEGORIES`).",
        columns=(
            _dataset(),
            Column("image", STR, "The image file name as the messages give it (`<md5>.jpg`; `images.source_key`).", nullable=False),
            _split(),
            Column("image_id", STR, "Content hash (`images.image_id`) of the file, null when the build has no images folder."),
            Column("category", STR, "Table 4 sub-category, canonical spelling.", nullable=False),
            Column("category_group", STR, "Table 4 category: Screenshot or Photo.", nullable=False),
            _annotator(),
            _created_at(),
            _revision(),
        ),
        sort_key=("image",),
        group=GROUP,
    )
)

QUERY_REWRITES = register(
    Table(
        name="jddc_query_rewrites",
        version=1,
        doc="Multimodal query rewriting: one row per annotated user query turn; whether it can be rewritten as text, and the rewrite.",
        columns=(
            _dataset(),
            _dialog_id(),
            _split(),
            Column("turn_index", I32, "The user query turn (`turns.turn_index`).", nullable=False),
            Column("query_text", STR, "Text of that turn ('' for an image message).", nullable=False),
            Column(
                "query_image_refs", STRS, "Image file names of the query's messages (`query_turn_indices`, default that turn; `<md5>.jpg`)."
            ),
            Column(
                "rewritable",
                pa.bool_(),
                "Whether the multimodal query can be rewritten as a text without losing information.",
                nullable=False,
            ),
            Column("rewritten", STR, "The rewritten text query (required when rewritable, else null)."),
            Column("rewritten_chars", I32, "len(rewritten) in characters (Unicode code points), null when not rewritten."),
            _annotator(),
            _created_at(),
            _revision(),
        ),
        sort_key=("dialog_id", "turn_index"),
        group=GROUP,
    )
)

DISCOURSE = register(
    Table(
        name="jddc_discourse",
        version=1,
        doc="Discourse parsing: one row per linked EDU (every EDU of an annotated session except the first), its parent EDU and the Table 12 relation.",
        columns=(
            _dataset(),
            _dialog_id(),
            _split(),
            Column("turn_index", I32, "The EDU (`turns.turn_index`).", nullable=False),
            Column("parent_turn_index", I32, "The earlier EDU it links to (< turn_index).", nullable=False),
            Column("relation", STR, "Level1/Level2/Level3 label, one of `schemas.jddc.DISCOURSE_RELATIONS`.", nullable=False),
            Column("level1", STR, "First level (Question&Answer, Imperative, Promise, Communication, Contingency).", nullable=False),
            Column("level2", STR, "Second level.", nullable=False),
            Column("level3", STR, "Third level.", nullable=False),
            _annotator(),
            _created_at(),
            _revision(),
        ),
        sort_key=("dialog_id", "turn_index"),
        group=GROUP,
    )
)

SUMMARIES = register(
    Table(
        name="jddc_summaries",
        version=1,
        doc="Dialogue summarisation: one row per annotated session, its trivial utterances (greeting, waiting, self-introduction) and the summary.",
        columns=(
            _dataset(),
            _dialog_id(),
            _split(),
            Column("trivial_turn_indices", pa.list_(I32), "turn_index of each utterance flagged trivial, ascending.", nullable=False),
            Column("summary", STR, "Summary text, as written (UTF-8, full-width punctuation kept).", nullable=False),
            Column("summary_chars", I32, "len(summary) in characters (Unicode code points); the paper's mean is 38.3.", nullable=False),
            Column("num_turns", I32, "Turns of the session when it was joined (for checking the indices).", nullable=False),
            _annotator(),
            _created_at(),
            _revision(),
        ),
        sort_key=("dialog_id",),
        group=GROUP,
    )
)
