"""MESE's tables as `mmdial experiment` entries (merged into `modeling.experiments.EXPERIMENTS`).

Each run is (kind, config, options): `smoke` names the CPU-sized config `--smoke` trains instead.
Every MESE table is read off the same evaluation (`mmdial evaluate mese`), so an experiment is the
set of variants its table compares; the report prints the paper's rows beside ours. `protocol`:
the language protocol the experiment evaluates with (Tables 2 and 8 compare language metrics with
the paper's, so they use its definitions: `--protocol paper`).
"""

from __future__ import annotations


def _mese(config: str, smoke: str) -> tuple:
    return ("mese", config, {"smoke": smoke})


MESE = _mese("mese", "mese_smoke")
WO_CONTENT = _mese("mese_wo_content", "mese_smoke_wo_content")
WO_ITEM = _mese("mese_wo_item", "mese_smoke_wo_item")
LG = _mese("mese_lg", "mese_smoke_lg")

EXPERIMENTS: dict[str, dict] = {
    "mese-table2": {
        "what": "MESE Table 2 (ReDial build): recommendation and language metrics (the paper's protocol), popularity and random beside",
        "runs": [MESE],
        "protocol": "paper",
    },
    "mese-table3": {"what": "MESE Table 3 (ReDial build): recall, ranking and final accuracy", "runs": [MESE]},
    "mese-table5": {"what": "MESE Table 5 (ReDial build): MESE and MESE w/o content (no genre, no plot)", "runs": [WO_CONTENT, MESE]},
    "mese-table6": {"what": "MESE Table 6 (ReDial build): item-encoder clustering, raw / w/o content / MESE", "runs": [WO_CONTENT, MESE]},
    "mese-table7-redial": {
        "what": "MESE Table 7, REDIAL block: MESE and MESE w/o item (data=REDIAL_BUILD)",
        "runs": [WO_ITEM, MESE],
        "dataset": "redial",
    },
    "mese-table7-inspired": {
        "what": "MESE Table 7, INSPIRED block: MESE and MESE w/o item (data=INSPIRED_BUILD, `mmdial build inspired`)",
        "runs": [WO_ITEM, MESE],
        "dataset": "inspired",
    },
    "mese-table8": {
        "what": "MESE Table 8 (ReDial build): MESE-LG (language loss only) and MESE, the paper's language protocol",
        "runs": [LG, MESE],
        "protocol": "paper",
    },
}
