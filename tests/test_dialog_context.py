"""The one-pass context index gives exactly the naive per-turn merge, for any dialog and cut."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.core.dialog import ContextIndex, Utterance


def naive(utts, image_ids, upto, max_turns):
    groups = []
    for u in utts[:upto]:
        if groups and groups[-1]["speaker"] == u.speaker:
            g = groups[-1]
            g["text"] = f"{g['text']} {u.text}".strip() if u.text else g["text"]
            g["image_refs"] += u.images
            g["image_ids"] += image_ids.get(u.index, [])
        else:
            groups.append(
                {
                    "turn_index": u.index,
                    "speaker": u.speaker,
                    "text": u.text,
                    "image_refs": list(u.images),
                    "image_ids": list(image_ids.get(u.index, [])),
                }
            )
    return groups[-max_turns:] if max_turns > 0 else groups


turn = st.tuples(st.sampled_from(["user", "system"]), st.sampled_from(["", "a", "b c"]), st.lists(st.sampled_from(["x", "y"]), max_size=2))


@settings(max_examples=200, deadline=None)
@given(st.lists(turn, max_size=14), st.integers(0, 4))
def test_context_index_matches_the_naive_merge(turns, max_turns):
    utts = [Utterance(i, i, sp, text, imgs, [], {}) for i, (sp, text, imgs) in enumerate(turns)]
    image_ids = {i: [f"id-{r}" for r in imgs] for i, (_, _, imgs) in enumerate(turns) if i % 2}
    index = ContextIndex(utts, image_ids)
    for upto in range(len(utts) + 1):
        assert index.context(upto, max_turns) == naive(utts, image_ids, upto, max_turns)
