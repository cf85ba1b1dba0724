"""The text stage inside a build's shard work: rows pass through `DeidentifyingContext.emit`.

Builders emit rows into a `ShardContext`; wrapping that context (`hooks.with_text_privacy`) is the
only change a builder needs, and every free-text column of every table in `hooks.TEXT_COLUMNS`
is de-identified before it is written, whichever code path emitted it (turns, query rewrites,
summaries). Placeholders are numbered per dialogue (`dialog_id`) across tables, so a summary
says `[PHONE_1]` where its dialogue's turns do. Counts per type become build statistics
(`text_privacy.<TYPE>`, summed into the manifest and shown on the card).
"""

from __future__ import annotations

from pipelines.privacy.hooks import TEXT_COLUMNS
from pipelines.privacy.text import Dialogue, TextDeidentifier


class DeidentifyingContext:
    """Delegates everything to the wrapped ShardContext except `emit`."""

    def __init__(self, ctx, deid: TextDeidentifier):
        self._ctx = ctx
        self._deid = deid
        self._dialogues: dict[str, Dialogue] = {}

    def __getattr__(self, name):
        return getattr(self._ctx, name)

    def emit(self, table: str, row: dict) -> None:
        cols = TEXT_COLUMNS.get(table)
        if cols:
            dialogue = self._dialogues.setdefault(str(row.get("dialog_id")), Dialogue())
            for col in cols:
                value = row.get(col)
                if not isinstance(value, str) or not value:
                    continue
                new, reps = self._deid.deidentify(value, dialogue)
                if reps:
                    row = {**row, col: new}
                    for r in reps:
                        self._ctx.add_stat(f"text_privacy.{r.type}")
                self._ctx.add_stat("text_privacy.fields_checked")
        self._ctx.emit(table, row)
