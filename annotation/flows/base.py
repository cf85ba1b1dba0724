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
    #: an empty result is an answer ("nothing mentioned"), not an unfinished task
    empty_is_answer: bool = False
    #: the flow exists to show images not yet cleared by the privacy stage (to privacy reviewers)
    shows_unchecked_images: bool = False

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
        """What a QC reviewer reads: the item's texts and its exported annotation, wrapped (images: `review_images`)."""
        import html
        import json

        wrap = "white-space:pre-wrap;word-break:break-word;max-width:100%"
        out = [f"<h3>{html.escape(self.name)}: {html.escape(str(data.get('mmdial_unit')))}</h3>"]
        for k, v in data.items():
            if k.startswith("mmdial_") or k in NOT_REVIEWED or _is_image_value(v):
                continue
            if isinstance(v, list) and v and isinstance(v[0], dict):
                v = "\n".join(f"{d.get('speaker', '')}: {d.get('text', '')}" for d in v)
            out.append(f'<p><b>{html.escape(k)}</b></p><pre style="{wrap}">{html.escape(str(v))}</pre>')
        body = "\n\n".join(json.dumps(x, ensure_ascii=False, sort_keys=True, indent=2) for x in lines)
        out.append(f'<h4>annotation</h4><pre style="{wrap}">{html.escape(body)}</pre>')
        return "\n".join(out)

    def review_images(self, data: dict, result: list[dict], store=None) -> list[str]:
        """The images a QC reviewer sees (URLs of the image store or http(s), shown by an Image tag)."""
        imgs = [data["image"]] if isinstance(data.get("image"), str) else []
        imgs += [x for x in data.get("images") or [] if isinstance(x, str)]
        return imgs


#: how wide a task's context images are drawn (product photos are small: zoomed to the page width they pushed the form away)
IMAGE_MAX_PX = 240


#: room at the end of each paragraph for the editor's "label whole utterance" button, which otherwise covers the
#: last characters of the text (its feature flag is forced on in Label Studio 1.23); class names are CSS-module hashed
PARAGRAPH_STYLE = '  <Style>[class*="withSelectAllButton"] { padding-right: 48px !important; }</Style>\n'


def beside_images(main: str) -> str:
    """`main` (labeling-config tags) with the task's images in a narrow column to its right, so a session's
    text, its images and the form below fit one screen (images stacked under the text pushed the form away)."""
    return (
        PARAGRAPH_STYLE + '  <View style="display:flex;gap:12px;align-items:flex-start">\n'
        f'    <View style="flex:1 1 auto;min-width:0">\n{main}    </View>\n'
        f'    <View style="flex:0 0 {IMAGE_MAX_PX}px;max-width:{IMAGE_MAX_PX}px">\n'
        f'      <Image name="images" valueList="$images" maxWidth="{IMAGE_MAX_PX}px"/>\n'
        "    </View>\n"
        "  </View>\n"
    )


IMAGE_VALUE_PREFIXES = ("data:", "http://", "https://", "/data/local-files/", "s3://")
#: task fields for the page (Data Manager column, pre-fill note), not for the reviewer
NOT_REVIEWED = ("preview", "prefill_note")


def _is_image_value(v) -> bool:
    if isinstance(v, str):
        return v.startswith(IMAGE_VALUE_PREFIXES)
    return isinstance(v, list) and bool(v) and all(isinstance(x, str) and x.startswith(IMAGE_VALUE_PREFIXES) for x in v)
