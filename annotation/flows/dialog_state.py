"""Dialog-state flow (MMD-v3, SIMMC): per user turn, every slot key of the catalogue with a value or none.

Tasks come from `turns` (user turns), pre-filled from `dialog_states` rows with source gold, else
predicted, for the same turn; a turn without one starts from the previous user turn's known state
(the belief state is cumulative). Turns whose state is `annotated` already are not pushed again. The
images of the turn and of the last IMAGE_TURNS turns before it are shown as images. The slot keys are the catalogue's attributes (`products.attributes`
keys and the slots of existing states), fixed when the project is created. Export: the MMD-v3 states
JSONL of docs/exchange-formats.md (`pipelines/mmd/states.py` reads it); an empty field or "none" means the slot
is not in the state.
"""

from __future__ import annotations

import re

import pyarrow as pa

from annotation import results as R
from annotation.flows.base import ExportOutcome, Flow, attr
from annotation.tasks import BuildResult, TaskSpec, image_index, render_turn, sessions, turn_images
from schemas.core import pairs_to_dict

DEFAULT_SLOTS = ("type", "color", "material", "brand", "gender", "price", "pattern", "style", "size")
_NOT_SLOTS = re.compile(r"name|title|description|image|url|^id$|_id$|taxonomy")
CONTEXT_TURNS = 8
#: images shown: those of the turn and of the last turns before it (what "the second one" refers to);
#: older ones would repeat in every later task of the dialog (a wall of images above the form)
IMAGE_TURNS = 2
PREFILL_ORDER = ("gold", "predicted")
#: width of the image column beside the slot fields (the fields stay in view on a 1280x800 screen)
IMAGE_COLUMN_PX = 260
NONE_VALUES = ("", "none", "null", "n/a")


PREVIEW_CHARS = 80


def prefill_note(source: str | None, n_values: int) -> str:
    """What the form starts from, said as it is (a heading that promised a pre-fill over empty fields misled)."""
    if source is None:
        return "Starts empty: no earlier user turn of this dialog has a known state."
    if not n_values:
        return f"Starts empty: the known state (source: {source}) has no values yet."
    return f"Pre-filled with {n_values} value(s), source: {source}. Check and correct them."


def _slot_field(i: int) -> str:
    return f"slot_{i:02d}"


class DialogStateFlow(Flow):
    name = "dialog_state"
    description = "Belief state (slot -> value) after each user turn"
    export_file = "states.jsonl"
    empty_is_answer = True  # an empty belief state ("nothing mentioned so far") is an answer

    def params(self, tables: dict[str, pa.Table]) -> dict:
        keys: set[str] = set()
        if "dialog_states" in tables:
            for slots in tables["dialog_states"].column("slots").to_pylist():
                keys.update(pairs_to_dict(slots) or {})
        if "products" in tables:
            for attrs in tables["products"].column("attributes").to_pylist():
                keys.update(k for k in pairs_to_dict(attrs) or {} if not _NOT_SLOTS.search(k.lower()))
        return {"slots": sorted(keys) or list(DEFAULT_SLOTS)}

    def label_config(self, params: dict) -> str:
        fields = "\n".join(
            f'        <View style="padding:2px 8px"><Header value={attr(slot)} size="6"/>'
            f'<TextArea name="{_slot_field(i)}" toName="utterance" maxSubmissions="1" editable="true" rows="1" placeholder="none"/></View>'
            for i, slot in enumerate(params["slots"])
        )
        # images in a narrow column beside the slot fields: a 64 px image zoomed to the page width pushed the form below the fold
        return (
            "<View>\n"
            '  <Header value="Dialog $dialog_id, turn $turn_index"/>\n'
            '  <Text name="context" value="$context" granularity="word"/>\n'
            '  <Header value="User turn" size="5"/>\n'
            '  <Text name="utterance" value="$utterance"/>\n'
            '  <View style="display:flex;gap:12px;align-items:flex-start">\n'
            f'    <View style="flex:0 0 {IMAGE_COLUMN_PX}px;max-width:{IMAGE_COLUMN_PX}px">\n'
            '      <Header value="Images of the last turns and of this turn, in order ([image] marks above)" size="6"/>\n'
            f'      <Image name="images" valueList="$images" width="{IMAGE_COLUMN_PX}px" maxWidth="{IMAGE_COLUMN_PX}px"/>\n'
            "    </View>\n"
            '    <View style="flex:1 1 auto">\n'
            '      <Header value="Belief state after this turn: one value per slot, empty (or none) when not mentioned so far" size="5"/>\n'
            '      <Text name="prefill_note" value="$prefill_note"/>\n'
            '      <View style="display:grid;grid-template-columns:repeat(3, 1fr)">\n'
            f"{fields}\n"
            "      </View>\n"
            "    </View>\n"
            "  </View>\n"
            "</View>\n"
        )

    def build(self, tables: dict[str, pa.Table], params: dict, options: dict) -> BuildResult:
        out = BuildResult()
        if "turns" not in tables:
            raise ValueError("the dialog_state flow needs a `turns` table")
        slots = params["slots"]
        images = image_index(tables.get("images"))
        prefills: dict[tuple[str, int], tuple[str, dict]] = {}
        annotated: dict[tuple[str, int], dict] = {}
        if "dialog_states" in tables:
            for row in tables["dialog_states"].to_pylist():
                k = (row["dialog_id"], row["turn_index"])
                state = pairs_to_dict(row["slots"]) or {}
                if row["source"] == "annotated":
                    annotated[k] = state
                    continue
                if row["source"] not in PREFILL_ORDER:
                    continue
                cur = prefills.get(k)
                if cur is None or PREFILL_ORDER.index(row["source"]) < PREFILL_ORDER.index(cur[0]):
                    prefills[k] = (row["source"], state)
        for dialog_id, turns in sessions(tables["turns"]).items():
            carried: tuple[str, dict] | None = None  # the latest known state of an earlier user turn
            for pos, turn in enumerate(turns):
                if turn["speaker"] != "user":
                    continue
                out.records_in += 1
                k = (dialog_id, turn["turn_index"])
                if k in annotated:  # annotated already (an earlier pull merged into the build): not again
                    out.already_annotated += 1
                    carried = (f"annotated turn {turn['turn_index']}", annotated[k])
                    continue
                shown_turns = turns[max(0, pos - CONTEXT_TURNS) : pos]
                context = "\n".join(f"{t['speaker']}: {render_turn(t)}" for t in shown_turns) or "(start of dialog)"
                utterance = render_turn(turn)
                srcs, shown, missing = turn_images([*shown_turns[-IMAGE_TURNS:], turn], images, options.get("image_store"))
                if k in prefills:
                    source, state = prefills[k]
                elif carried is not None:  # the belief state is cumulative: start from the previous turn's
                    source, state = f"carried from {carried[0]}", carried[1]
                else:
                    source, state = None, {}
                if k in prefills:
                    carried = (f"{prefills[k][0]} turn {turn['turn_index']}", prefills[k][1])
                unknown = sorted(set(state) - set(slots))
                if unknown:
                    out.reject(
                        "dialog_states",
                        f"{dialog_id}:{turn['turn_index']}",
                        f"pre-fill has slots outside the project's catalogue: {unknown}",
                        state,
                    )
                    continue
                prefill = [
                    R.textarea(_slot_field(slots.index(k)), "utterance", str(v))
                    for k, v in sorted(state.items())
                    if str(v).strip().lower() not in NONE_VALUES
                ]
                data = {
                    "dataset": turn.get("dataset") or "",
                    "dialog_id": dialog_id,
                    "turn_index": int(turn["turn_index"]),
                    "context": context,
                    "utterance": utterance,
                }
                identity = {**data, "prefill": {k: str(v) for k, v in sorted(state.items())}}
                data["prefill_note"] = prefill_note(source, len(prefill))
                data["preview"] = f"{dialog_id} turn {turn['turn_index']}: {utterance[:PREVIEW_CHARS]}"
                if missing:  # pushed without these images: another task than the one with them
                    identity["images_missing"] = list(missing)
                data["images"] = srcs
                out.tasks.append(
                    TaskSpec(
                        self.name,
                        f"{dialog_id}:{turn['turn_index']}",
                        dialog_id,
                        identity,
                        data,
                        prefill or None,
                        source,
                        images=shown,
                        images_missing=missing,
                    )
                )
        return out

    def export(self, data: dict, result: list[dict], params: dict) -> ExportOutcome:
        slots = {}
        for i, slot in enumerate(params["slots"]):
            value = R.text_of(result, _slot_field(i))
            if value is not None and value.strip().lower() not in NONE_VALUES:
                slots[slot] = " ".join(value.split())
        line = {
            "dialog_id": data["dialog_id"],
            "turn_index": int(data["turn_index"]),
            "slots": dict(sorted(slots.items())),
            "source": "annotated",
        }
        if data.get("dataset"):
            line["dataset"] = data["dataset"]
        return ExportOutcome([line])

    def sort_key(self, line: dict) -> tuple:
        return (line["dialog_id"], line["turn_index"])
