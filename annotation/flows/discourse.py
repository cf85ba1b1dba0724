"""Discourse flow (JDDC 2.1): per session, every EDU (message: text or image) linked to one earlier EDU.

The session is shown as Label Studio Paragraphs, one paragraph per `turns` row (an EDU), each
pre-labelled as a region; the annotator draws a relation from each EDU to the EDU it attaches to and
labels it with a level-3 relation of the paper's Table 12 (`Level1/Level2/Level3`). Export:
discourse.jsonl of docs/exchange-formats.md, one line per EDU except the first. The later EDU of a relation is
the child whatever the arrow's direction; an EDU with no link, two links, a self link or a label
outside the taxonomy is a problem (dead letter) and gets no line.
"""

from __future__ import annotations

import pyarrow as pa

from annotation import results as R
from annotation.flows.base import ExportOutcome, Flow, attr, beside_images
from annotation.tasks import BuildResult, TaskSpec, image_index, render_turn, sessions, turn_images
from annotation.taxonomy import discourse_relations, normalise_relation

EDU_LABEL = "EDU"


def edu_text(turn: dict) -> str:
    return f"[{turn['turn_index']}] {render_turn(turn)}"


PREVIEW_CHARS = 80


def session_preview(session_id: str, turns: list[dict]) -> str:
    """The Data Manager's readable column: the session, its size and how it starts (not the EDUs' JSON)."""
    first = next((render_turn(t) for t in turns if (t.get("text") or "").strip()), "")
    return f"{session_id} · {len(turns)} EDUs · {first[:PREVIEW_CHARS]}"


def session_data(session_id: str, turns: list[dict], images: dict[str, dict], store=None) -> tuple[dict, dict, dict]:
    """(task data, identity, image fields of the TaskSpec) shared by the per-session flows."""
    edus = [{"speaker": t["speaker"], "text": edu_text(t)} for t in turns]
    image_ids = [i for t in turns for i in t.get("image_ids") or []]
    srcs, shown, missing = turn_images(turns, images, store)
    data = {
        "session_id": session_id,
        "preview": session_preview(session_id, turns),
        "edus": edus,
        "edu_turns": [int(t["turn_index"]) for t in turns],
        "images": srcs,
    }
    identity = {"session_id": session_id, "edus": edus, "edu_turns": data["edu_turns"], "image_ids": image_ids}
    if missing:  # pushed without these images: another task than the one with them
        identity["images_missing"] = list(missing)
    return data, identity, {"images": shown, "images_missing": missing}


def region_turns(result: list[dict], from_name: str, edu_turns: list[int]) -> dict[str, int]:
    """region id -> turn_index of the paragraph it starts in."""
    out = {}
    for r in R.items(result, from_name):
        try:
            pos = int((r.get("value") or {}).get("start"))
        except (TypeError, ValueError):
            continue
        if 0 <= pos < len(edu_turns):
            out[r.get("id")] = edu_turns[pos]
    return out


class DiscourseFlow(Flow):
    name = "discourse"
    description = "Discourse structure: each EDU linked to one earlier EDU with a Table 12 relation"
    export_file = "discourse.jsonl"

    def params(self, tables: dict[str, pa.Table]) -> dict:
        return {"relations": list(discourse_relations())}

    def label_config(self, params: dict) -> str:
        relations = "\n".join(f"    <Relation value={attr(r)}/>" for r in params["relations"])
        return (
            "<View>\n"
            '  <Header value="Session $session_id: draw a relation from every EDU to the earlier EDU it attaches to"/>\n'
            f'  <ParagraphLabels name="edu" toName="dialogue"><Label value="{EDU_LABEL}"/></ParagraphLabels>\n'
            + beside_images('      <Paragraphs name="dialogue" value="$edus" layout="dialogue" nameKey="speaker" textKey="text"/>\n')
            + "  <Relations>\n"
            f"{relations}\n"
            "  </Relations>\n"
            "</View>\n"
        )

    def build(self, tables: dict[str, pa.Table], params: dict, options: dict) -> BuildResult:
        if "turns" not in tables:
            raise ValueError("the discourse flow needs a `turns` table")
        images = image_index(tables.get("images"))
        out = BuildResult()
        for session_id, turns in sessions(tables["turns"]).items():
            out.records_in += 1
            if len(turns) < 2:
                out.reject("turns", session_id, "a session needs at least two EDUs to link", None)
                continue
            data, identity, shown = session_data(session_id, turns, images, options.get("image_store"))
            prefill = [
                R.paragraph_label(f"edu{t}", "edu", "dialogue", i, e["text"], EDU_LABEL)
                for i, (t, e) in enumerate(zip(data["edu_turns"], data["edus"], strict=True))
            ]
            out.tasks.append(TaskSpec(self.name, session_id, session_id, identity, data, prefill, "edus", **shown))
        return out

    def export(self, data: dict, result: list[dict], params: dict) -> ExportOutcome:
        sid = data["session_id"]
        turns = [int(t) for t in data["edu_turns"]]
        regions = region_turns(result, "edu", turns)
        allowed = set(params["relations"])
        links: dict[int, list[tuple[int, str]]] = {}
        out = ExportOutcome()
        for r in result or []:
            if r.get("type") != "relation":
                continue
            a, b = regions.get(r.get("from_id")), regions.get(r.get("to_id"))
            labels = r.get("labels") or []
            if a is None or b is None:
                out.problems.append((sid, f"relation between unknown regions {r.get('from_id')} -> {r.get('to_id')}"))
                continue
            child, parent = max(a, b), min(a, b)
            if a == b:
                out.problems.append((f"{sid}:{a}", "relation from an EDU to itself"))
                continue
            label = normalise_relation(labels[0]) if len(labels) == 1 else None
            if label not in allowed:
                out.problems.append((f"{sid}:{child}", f"relation label must be one level-3 relation of Table 12, got {labels}"))
                continue
            links.setdefault(child, []).append((parent, label))
        for t in turns[1:]:
            found = links.get(t, [])
            if not found:
                out.problems.append((f"{sid}:{t}", "EDU has no link to an earlier EDU"))
            elif len(set(found)) > 1:
                out.problems.append((f"{sid}:{t}", f"EDU has {len(set(found))} different links; exactly one is allowed"))
            else:
                parent, label = found[0]
                out.lines.append({"session_id": sid, "turn_index": t, "parent_turn_index": parent, "relation": label})
        if turns and turns[0] in links:
            out.problems.append((f"{sid}:{turns[0]}", "the first EDU cannot link to an earlier one"))
        return out

    def sort_key(self, line: dict) -> tuple:
        return (line["session_id"], line["turn_index"])
