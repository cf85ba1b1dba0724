"""Text de-identification benchmark: recall per personal-value type, fragments left, benign kept,
throughput, over a JSONL file of chat lines (format: benchmarks/text_privacy_tune.py).

    python benchmarks/bench_text_privacy.py --data tune.jsonl --out results.json

Metrics (each line is de-identified as its own dialogue):
- removed[type]: share of planted values of that type with no fragment left: no substring of the
  value of ceil(len/2) characters (or more) occurs in the output line;
- structured_recall: removed share over PHONE, ID_CARD, BANK_CARD, EMAIL, ORDER_ID, TRACKING_ID,
  ACCOUNT, PLATE; names_addresses_recall: over PERSON and ADDRESS;
- left_whole / left_fragment: planted values found whole / as a half-length fragment in the output;
- benign_kept[type]: share of benign look-alikes still present verbatim in the output;
- utterances_per_s_per_core: lines / process CPU seconds of the de-identification loop (one process);
- targets: the issue's done-when thresholds (>= 0.99 structured, >= 0.95 names/addresses,
  no value left, >= 0.95 benign kept).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

STRUCTURED = ("PHONE", "ID_CARD", "BANK_CARD", "EMAIL", "ORDER_ID", "TRACKING_ID", "ACCOUNT", "PLATE")
NAMES_ADDRESSES = ("PERSON", "ADDRESS")


def fragment_left(value: str, out: str) -> bool:
    n = max(1, math.ceil(len(value) / 2))
    return any(value[i : i + n] in out for i in range(len(value) - n + 1))


def evaluate(records: list[dict], deid) -> dict:
    removed, total = defaultdict(int), defaultdict(int)
    kept, btotal = defaultdict(int), defaultdict(int)
    whole = frag = 0
    misses = []
    outs = []
    t0 = time.process_time()
    for rec in records:
        outs.append(deid.deidentify(rec["text"])[0])
    cpu = time.process_time() - t0
    for rec, out in zip(records, outs):
        for p in rec.get("pii", []):
            total[p["type"]] += 1
            if p["value"] in out:
                whole += 1
            if fragment_left(p["value"], out):
                frag += 1
                misses.append({"id": rec["id"], "type": p["type"]})
            else:
                removed[p["type"]] += 1
        for b in rec.get("benign", []):
            btotal[b["type"]] += 1
            kept[b["type"]] += b["value"] in out

    def share(num, den, keys):
        d = sum(den[k] for k in keys)
        return (sum(num[k] for k in keys) / d) if d else None

    res = {
        "lines": len(records),
        "removed": {t: {"share": removed[t] / total[t], "n": total[t]} for t in sorted(total)},
        "structured_recall": share(removed, total, STRUCTURED),
        "names_addresses_recall": share(removed, total, NAMES_ADDRESSES),
        "left_whole": whole,
        "left_fragment": frag,
        "benign_kept": {t: {"share": kept[t] / btotal[t], "n": btotal[t]} for t in sorted(btotal)},
        "benign_kept_all": share(kept, btotal, list(btotal)),
        "cpu_s": cpu,
        "utterances_per_s_per_core": len(records) / cpu if cpu else None,
        "misses": misses[:50],  # ids and types only, never values
    }
    res["targets"] = {
        "structured_ge_0.99": res["structured_recall"] is None or res["structured_recall"] >= 0.99,
        "names_addresses_ge_0.95": res["names_addresses_recall"] is None or res["names_addresses_recall"] >= 0.95,
        "no_value_left": frag == 0,
        "benign_kept_ge_0.95": res["benign_kept_all"] is None or res["benign_kept_all"] >= 0.95,
    }
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="JSONL chat lines with planted values")
    ap.add_argument("--out", required=True, help="results JSON (never a tracked file)")
    ap.add_argument("--recognizer-file", action="append", default=[], help="extra recogniser YAML (repeatable)")
    a = ap.parse_args()
    from pipelines.privacy.text import TextDeidentifier

    with open(a.data, encoding="utf-8") as fh:
        records = [json.loads(x) for x in fh if x.strip()]
    deid = TextDeidentifier(files=a.recognizer_file)
    deid.setup()
    deid.deidentify("预热 warm up 张伟 13812345678")  # load jieba and the name tables outside the timing
    res = evaluate(records, deid)
    res["data"] = os.path.abspath(a.data)
    with open(a.out, "w", encoding="utf-8") as fh:
        json.dump(res, fh, indent=2, ensure_ascii=False)
    print(
        json.dumps(
            {
                k: res[k]
                for k in (
                    "structured_recall",
                    "names_addresses_recall",
                    "left_fragment",
                    "benign_kept_all",
                    "utterances_per_s_per_core",
                    "targets",
                )
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
