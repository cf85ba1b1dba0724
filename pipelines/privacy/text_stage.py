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
            dialogue = self._dialogues.get(row.get("dialog_id"))
            if dialogue is None:
                dialogue = self._dialogues[row.get("dialog_id")] = Dialogue()
            changed = {}
            for col in cols:
                if "[]." in col:  # a text field inside each struct of a list column (rec_samples.context)
                    name, _, sub = col.partition("[].")
                    items = row.get(name)
                    if items:
                        new = [{**it, sub: self._text(it.get(sub), dialogue)} if isinstance(it, dict) else it for it in items]
                        if new != items:
                            changed[name] = new
                else:
                    value = row.get(col)
                    new = self._text(value, dialogue)
                    if new is not value:
                        changed[col] = new
            if changed:
                row = {**row, **changed}
        self._ctx.emit(table, row)

    def _text(self, value, dialogue: Dialogue):
        if not value or not isinstance(value, str):
            return value
        new, reps = self._deid.deidentify(value, dialogue)
        if not reps:
            return value
        for r in reps:
            self._ctx.add_stat(f"text_privacy.{r.type}")
        return new
