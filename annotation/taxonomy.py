"""Label sets the flows offer: JDDC 2.1 discourse relations (Table 12) and privacy box labels.

The discourse taxonomy is owned by `schemas.jddc` (`DISCOURSE_RELATIONS`, written
`Level1/Level2/Level3`, level 3 may contain a slash, "Reply to ..." spelling); this copy is used
only while that module is absent, and a test checks the two agree when both exist.
"""

from __future__ import annotations

_FALLBACK_TAXONOMY: dict[str, dict[str, tuple[str, ...]]] = {
    "Question&Answer": {"Question": ("Yes/No", "SWIH", "Choice"), "Answer": ("Affirmation", "Deny", "Hold")},
    "Imperative": {"Suggestion": ("Recommend", "Suggestion", "Request"), "Reply to suggestion": ("Acceptance", "Rejection")},
    "Promise": {"Promise": ("Promise",), "Reply to promise": ("Acceptance", "Rejection")},
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
FALLBACK_RELATIONS: tuple[str, ...] = tuple(
    f"{l1}/{l2}/{l3}" for l1, l2s in _FALLBACK_TAXONOMY.items() for l2, l3s in l2s.items() for l3 in l3s
)

#: what the annotator may label a private region as (the privacy stage treats every label alike)
PRIVACY_LABELS: tuple[str, ...] = ("phone", "name", "address", "order_number", "id_number", "face", "other")
#: kinds of trivial utterance the summary flow offers (all export as "trivial")
TRIVIAL_KINDS: tuple[str, ...] = ("greeting", "waiting", "self-introduction", "other trivial")


def discourse_relations() -> tuple[str, ...]:
    try:
        from schemas.jddc import DISCOURSE_RELATIONS  # type: ignore[import-not-found]

        return tuple(DISCOURSE_RELATIONS)
    except ImportError:
        return FALLBACK_RELATIONS


def normalise_relation(label: str) -> str:
    """The paper's table spells two level-2 classes "Rely to ..."; accept that spelling."""
    return label.replace("/Rely to ", "/Reply to ").strip()
