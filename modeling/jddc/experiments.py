"""JDDC 2.1's Tables 5-9 as `mmdial experiment` entries (merged into `modeling.experiments.EXPERIMENTS`).

Each run is (kind, config, options): `overrides` set the row (text-only or multimodal, retrieval or
GPT), `name` its folder, `smoke` the CPU-sized config that `--smoke` trains instead. Tables 5-7
need a JDDC build (`mmdial build jddc`), Tables 8-9 one with the discourse and summary tables.
"""

from __future__ import annotations


def _rows(kind: str, config: str, smoke: str, variants: dict[str, list[str]]) -> list[tuple]:
    return [(kind, config, {"smoke": smoke, "overrides": o, "name": f"{kind}-{n}"}) for n, o in variants.items()]


MODALITY = {"text": ["multimodal=false"], "multimodal": ["multimodal=true"]}

EXPERIMENTS: dict[str, dict] = {
    "jddc-table5": {
        "what": "JDDC 2.1 Table 5: response generation, retrieval and GPT, text-only and multimodal",
        "runs": _rows(
            "jddc-response",
            "jddc",
            "jddc_smoke",
            {f"{k}-{m}": [f"response.kind={k}", *o] for k in ("retrieval", "generative") for m, o in MODALITY.items()},
        ),
    },
    "jddc-table6": {
        "what": "JDDC 2.1 Table 6: can the multimodal query be rewritten (text-only BERT, multimodal TransResNet)",
        "runs": _rows("jddc-rewrite-cls", "jddc", "jddc_smoke", MODALITY),
    },
    "jddc-table7": {
        "what": "JDDC 2.1 Table 7: query rewriting, text-only and multimodal GPT",
        "runs": _rows("jddc-rewrite", "jddc", "jddc_smoke", MODALITY),
    },
    "jddc-table8": {
        "what": "JDDC 2.1 Table 8: discourse parsing, text-only and multimodal Deep Sequential",
        "runs": _rows(
            "jddc-discourse",
            "jddc_discourse",
            "jddc_discourse_smoke",
            {m: [f"model.multimodal={'true' if m == 'multimodal' else 'false'}"] for m in MODALITY},
        ),
    },
    "jddc-table9": {
        "what": "JDDC 2.1 Table 9: summarisation, Lead, LexRank, Pointer-Generator, text-only and multimodal BERTSUMABS",
        "runs": [
            (k, "jddc_summary", {"smoke": "jddc_summary_smoke", "name": k})
            for k in ("jddc-summary-lead", "jddc-summary-lexrank", "jddc-summary-pg")
        ]
        + _rows(
            "jddc-summary-bertsum",
            "jddc_summary",
            "jddc_summary_smoke",
            {m: [f"model.multimodal={'true' if m == 'multimodal' else 'false'}"] for m in MODALITY},
        ),
    },
}
