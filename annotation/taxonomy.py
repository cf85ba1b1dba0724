"""Label sets the flows offer: JDDC 2.1 discourse relations (Table 12) and privacy box labels.

The discourse taxonomy is owned by `schemas.jddc` (`DISCOURSE_RELATIONS`, written
`Level1/Level2/Level3`, level 3 may contain a slash, "Reply to ..." spelling): the pipeline
validates exactly what the annotation flow offers.
"""

from __future__ import annotations

from schemas.jddc import DISCOURSE_RELATIONS
from schemas.jddc import normalise_relation as _normalise

#: what the annotator may label a private region as (the privacy stage treats every label alike)
PRIVACY_LABELS: tuple[str, ...] = ("phone", "name", "address", "order_number", "id_number", "face", "other")
#: kinds of trivial utterance the summary flow offers (all export as "trivial")
TRIVIAL_KINDS: tuple[str, ...] = ("greeting", "waiting", "self-introduction", "other trivial")


def discourse_relations() -> tuple[str, ...]:
    return tuple(DISCOURSE_RELATIONS)


def normalise_relation(label: str) -> str:
    """The canonical Table 12 label (the paper's "Rely to" spelling accepted); unknown labels stay as
    given so the exporter can dead-letter them with the label in the reason."""
    return _normalise(label) or label.strip()
