"""Summary flow (JDDC 2.1): flag the trivial utterances (greeting, waiting, self-introduction), write the summary.

Same session view as the discourse flow (one paragraph per EDU); trivial EDUs are marked with
paragraph labels (the kind is for the annotator; all export as trivial) and the summary is typed
in a text area. Export: summaries.jsonl of docs/exchange-formats.md; an empty summary is a problem.
"""

from __future__ import annotations

import pyarrow as pa

from annotation import results as R
from annotation.flows.base import ExportOutcome, Flow, attr, beside_images
from annotation.flows.discourse import region_turns, session_data
from annotation.tasks import BuildResult, TaskSpec, image_index, sessions
from annotation.taxonomy import TRIVIAL_KINDS


class SummaryFlow(Flow):
    name = "summary"
    description = "Trivial utterances flagged and a short summary per session"
    export_file = "summaries.jsonl"

    def label_config(self, params: dict) -> str:
        labels = "".join(f"<Label value={attr(k)}/>" for k in TRIVIAL_KINDS)
        return (
            "<View>\n"
            '  <Header value="Session $session_id: mark trivial messages (greeting, waiting, self-introduction), then summarise"/>\n'
            f'  <ParagraphLabels name="trivial" toName="dialogue">{labels}</ParagraphLabels>\n'
            + beside_images('      <Paragraphs name="dialogue" value="$edus" layout="dialogue" nameKey="speaker" textKey="text"/>\n')
            + '  <TextArea name="summary" toName="dialogue" maxSubmissions="1" editable="true" required="true" rows="4" '
            'placeholder="the key information of the session"/>\n'
            "</View>\n"
        )

    def build(self, tables: dict[str, pa.Table], params: dict, options: dict) -> BuildResult:
        if "turns" not in tables:
            raise ValueError("the summary flow needs a `turns` table")
        images = image_index(tables.get("images"))
        out = BuildResult()
        for session_id, turns in sessions(tables["turns"]).items():
            out.records_in += 1
            data, identity, shown = session_data(session_id, turns, images, options.get("image_store"))
            out.tasks.append(TaskSpec(self.name, session_id, session_id, identity, data, **shown))
        return out

    def export(self, data: dict, result: list[dict], params: dict) -> ExportOutcome:
        sid = data["session_id"]
        summary = R.text_of(result, "summary")
        if not summary:
            return ExportOutcome(problems=[(sid, "the summary is empty")])
        trivial = sorted(set(region_turns(result, "trivial", [int(t) for t in data["edu_turns"]]).values()))
        return ExportOutcome([{"session_id": sid, "trivial_turn_indices": trivial, "summary": summary}])

    def sort_key(self, line: dict) -> tuple:
        return (line["session_id"],)
