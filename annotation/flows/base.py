"""What a flow is: a labeling config, a task builder from Parquet, and an exporter to an exchange format.

A flow's parameters (e.g. the slot keys of the catalogue) are fixed when its project is created and
stored in the Label Studio project's description, so any client can pull and export without local
state. Exporters turn one task's current annotation into exchange-format lines; what cannot be exported
is returned as a problem (it becomes a dead letter of the pull, never a crash or a silent drop).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

import pyarrow as pa

from annotation.tasks import BuildResult


def attr(value: str) -> str:
    """An XML attribute value, quoted and escaped (labels hold '&' and '/')."""
    return quoteattr(str(value))


@dataclass
class ExportOutcome:
    lines: list[dict] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (locator, reason)


class Flow:
    name: str = ""
    description: str = ""
    export_file: str = ""
    #: what groups of 100 count: sessions (dialog flows) or images (privacy check)
    group_unit: str = "session"

    def params(self, tables: dict[str, pa.Table]) -> dict:
        """Parameters fixed at project creation, derived from the first push's inputs."""
        return {}

    def label_config(self, params: dict) -> str:
        raise NotImplementedError

    def build(self, tables: dict[str, pa.Table], params: dict, options: dict) -> BuildResult:
        raise NotImplementedError

    def export(self, data: dict, result: list[dict], params: dict) -> ExportOutcome:
        raise NotImplementedError

    def sort_key(self, line: dict) -> tuple:
        return tuple(str(v) for v in line.values())

    def review_html(self, data: dict, lines: list[dict]) -> str:
        """What a QC reviewer sees: the item and its exported annotation."""
        import html
        import json

        shown = {k: v for k, v in data.items() if not k.startswith("mmdial_") and not (isinstance(v, str) and v.startswith("data:"))}
        out = [f"<h3>{html.escape(self.name)}: {html.escape(str(data.get('mmdial_unit')))}</h3>"]
        for k, v in shown.items():
            if isinstance(v, list) and v and isinstance(v[0], dict):
                v = "\n".join(f"{d.get('speaker', '')}: {d.get('text', '')}" for d in v)
            if isinstance(v, list) and all(isinstance(x, str) and x.startswith(("data:", "http")) for x in v):
                out.append("".join(f'<img src="{html.escape(x)}" style="max-width:240px;margin:2px"/>' for x in v))
                continue
            out.append(f"<p><b>{html.escape(k)}</b>: <pre>{html.escape(str(v))}</pre></p>")
        image = data.get("image")
        if isinstance(image, str):
            out.append(f'<img src="{html.escape(image)}" style="max-width:480px"/>')
        out.append(
            "<h4>annotation</h4><pre>" + html.escape("\n".join(json.dumps(x, ensure_ascii=False, sort_keys=True) for x in lines)) + "</pre>"
        )
        return "\n".join(out)
