"""Query-rewrite flow (JDDC 2.1): per multimodal user query, rewritable yes/no and the rewritten text.

A multimodal query is a run of consecutive user messages (JDDC sends text and images as separate
messages) that holds at least one image; its query turn (the exchange-format `turn_index`) is the run's last
text message, or its last message when it has no text. The task shows the preceding context, the
run's messages and its images. Export: query_rewrites.jsonl of docs/exchange-formats.md with
`query_turn_indices` (every message of the run, so the build finds the query's images on its earlier
turns); "no" exports `rewritten: null`. The form requires the rewrite once "yes" is chosen; a "yes"
without text that reaches a pull anyway (API client, older form) is a dead letter.
"""

from __future__ import annotations

import pyarrow as pa

from annotation import results as R
from annotation.flows.base import IMAGE_MAX_PX, ExportOutcome, Flow
from annotation.tasks import BuildResult, TaskSpec, image_index, render_turn, sessions, turn_images

CONTEXT_TURNS = 10


def user_blocks(turns: list[dict]) -> list[list[dict]]:
    blocks: list[list[dict]] = []
    for t in turns:
        if (
            t["speaker"] == "user"
            and blocks
            and blocks[-1][-1]["speaker"] == "user"
            and blocks[-1][-1]["turn_index"] == t["turn_index"] - 1
        ):
            blocks[-1].append(t)
        elif t["speaker"] == "user":
            blocks.append([t])
        else:
            blocks.append([t])
    return [b for b in blocks if b[0]["speaker"] == "user"]


def has_image(turn: dict) -> bool:
    return bool(turn.get("image_ids") or turn.get("image_refs"))


class QueryRewriteFlow(Flow):
    name = "query_rewrite"
    description = "Multimodal user query: rewritable yes/no and its text-only rewrite"
    export_file = "query_rewrites.jsonl"

    def label_config(self, params: dict) -> str:
        return (
            "<View>\n"
            '  <Header value="Session $session_id: context"/>\n'
            '  <Text name="context" value="$context"/>\n'
            '  <Header value="Multimodal user query" size="5"/>\n'
            '  <Text name="query" value="$query"/>\n'
            f'  <Image name="images" valueList="$images" maxWidth="{IMAGE_MAX_PX}px"/>\n'
            '  <Header value="Can the query (text and images) be rewritten as text alone?" size="5"/>\n'
            '  <Choices name="rewritable" toName="query" choice="single" required="true">\n'
            '    <Choice value="yes"/>\n'
            '    <Choice value="no"/>\n'
            "  </Choices>\n"
            # required only while visible: the editor validates a required tag unless it or its parent View is hidden
            '  <View visibleWhen="choice-selected" whenTagName="rewritable" whenChoiceValue="yes">\n'
            '    <TextArea name="rewritten" toName="query" maxSubmissions="1" editable="true" rows="3" required="true" '
            'requiredMessage="A rewritable query needs its text-only rewrite" '
            'placeholder="the query as one text that covers what the images add"/>\n'
            "  </View>\n"
            "</View>\n"
        )

    def build(self, tables: dict[str, pa.Table], params: dict, options: dict) -> BuildResult:
        if "turns" not in tables:
            raise ValueError("the query_rewrite flow needs a `turns` table")
        images = image_index(tables.get("images"))
        out = BuildResult()
        for session_id, turns in sessions(tables["turns"]).items():
            for block in user_blocks(turns):
                if not any(has_image(t) for t in block):
                    continue
                out.records_in += 1
                texts = [t for t in block if (t.get("text") or "").strip()]
                query_turn = (texts or block)[-1]["turn_index"]
                first = turns.index(block[0])
                context = (
                    "\n".join(f"{t['speaker']}: {render_turn(t)}" for t in turns[max(0, first - CONTEXT_TURNS) : first])
                    or "(start of session)"
                )
                query = "\n".join(f"[{t['turn_index']}] {render_turn(t)}" for t in block)
                image_ids = [i for t in block for i in t.get("image_ids") or []]
                srcs, shown, missing = turn_images(block, images, options.get("image_store"))
                data = {
                    "session_id": session_id,
                    "turn_index": int(query_turn),
                    "query_turns": [int(t["turn_index"]) for t in block],
                    "context": context,
                    "query": query,
                    "preview": f"{session_id} turn {query_turn}: {' '.join(query.split())[:80]}",
                    "images": srcs,
                }
                identity = {
                    "session_id": session_id,
                    "turn_index": int(query_turn),
                    "context": context,
                    "query": query,
                    "image_ids": image_ids,
                }
                if missing:  # pushed without these images: another task than the one with them
                    identity["images_missing"] = list(missing)
                out.tasks.append(
                    TaskSpec(self.name, f"{session_id}:{query_turn}", session_id, identity, data, images=shown, images_missing=missing)
                )
        return out

    def export(self, data: dict, result: list[dict], params: dict) -> ExportOutcome:
        choice = R.choice_of(result, "rewritable")
        loc = f"{data['session_id']}:{data['turn_index']}"
        if len(choice) != 1 or choice[0] not in ("yes", "no"):
            return ExportOutcome(problems=[(loc, f"rewritable must be one of yes/no, got {choice}")])
        rewritable = choice[0] == "yes"
        text = R.text_of(result, "rewritten")
        if rewritable and not text:  # the form refuses this; an API client or an older form may not have
            return ExportOutcome(problems=[(loc, "rewritable is yes but the rewritten text is empty")])
        line = {
            "session_id": data["session_id"],
            "turn_index": int(data["turn_index"]),
            "rewritable": rewritable,
            "rewritten": text if rewritable else None,
        }
        if data.get("query_turns"):  # every message of the query: its images sit on earlier turns than turn_index
            line["query_turn_indices"] = [int(t) for t in data["query_turns"]]
        return ExportOutcome([line])

    def sort_key(self, line: dict) -> tuple:
        return (line["session_id"], line["turn_index"])
