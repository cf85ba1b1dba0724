"""The text stage inside a build's shard work: rows pass through `DeidentifyingContext.emit`.

Builders emit rows into a `ShardContext`; wrapping that context (`hooks.with_text_privacy`) is the
only change a builder needs, and every free-text column of every table in `hooks.TEXT_COLUMNS`
is de-identified before it is written, whichever code path emitted it (turns, the context of rec samples,
query rewrites, summaries). Placeholders are numbered per dialogue (`dialog_id`) across tables, so a summary
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
            row = dict(row)
            for col in cols:
                if "[]." in col:  # a text field inside each struct of a list column (rec_samples.context)
                    name, _, sub = col.partition("[].")
                    items = row.get(name)
                    if items:
                        row[name] = [{**it, sub: self._text(it.get(sub), dialogue)} if isinstance(it, dict) else it for it in items]
                else:
                    row[col] = self._text(row.get(col), dialogue)
        self._ctx.emit(table, row)

    def _text(self, value, dialogue: Dialogue):
        if not isinstance(value, str) or not value:
            return value
        new, reps = self._deid.deidentify(value, dialogue)
        for r in reps:
            self._ctx.add_stat(f"text_privacy.{r.type}")
        self._ctx.add_stat("text_privacy.fields_checked")
        return new
