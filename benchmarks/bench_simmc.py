"""Benchmark: SIMMC 2.1 build with product crops, Beam (2 workers) against a plain single process.

Run by hand (never in CI):

    python benchmarks/bench_simmc.py                    # defaults below, ~2-3 minutes on 2 cores
    python benchmarks/bench_simmc.py --dialogs 400 --scenes 60   # quick look

Both sides do the same work on the same generated release (`mmdial generate simmc`): read the
2.1 dialog files and scene JSONs, decode every screenshot, crop every scene object by its bbox
with OpenCV, JPEG-encode and hash the crops, and write dialogs, turns, dialog states,
recommendation samples, products and images as zstd Parquet with the registry's schemas.

- baseline: one process, plain `json` + OpenCV + pyarrow, no Beam, no validation, no dead
  letters, no resume (`baseline_build` below: what one would write without the framework);
- beam: `mmdial build simmc` (SIMMCBuilder on the core, FnApiRunner, `--workers 2`), shards of
  about 1/8 of the input so both workers stay busy.

Metrics (written to benchmarks/results/simmc.json, summarised in docs/benchmarks.md):
- `seconds`: wall-clock time of one build, best of `--repeats`, start to last file written;
- `speedup` = baseline seconds / beam seconds (> 1: Beam is faster), measured in the same run;
- `crops_per_second` = product crops written / seconds;
- `rows`: rows per table on each side (they must agree, else the run is reported as invalid).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TABLES = ("dialogs", "turns", "dialog_states", "rec_samples", "products", "images")
SPLITS = {"train": "train", "dev": "valid", "devtest": "devtest", "teststd": "teststd"}


# -- the baseline: plain json + OpenCV + pyarrow, one process --------------------------------
def baseline_build(raw: str, out: str, quality: int = 90) -> dict[str, int]:
    import cv2
    import pyarrow.parquet as pq

    from schemas import get

    files = {}
    for dirpath, _, names in os.walk(raw):
        for n in names:
            files.setdefault(n, os.path.join(dirpath, n))
    prefab = {}
    for n, p in files.items():
        if n.endswith("_prefab_metadata_all.json"):
            prefab.update(json.load(open(p)))
    rows: dict[str, list[dict]] = {t: [] for t in TABLES}
    scene_objects: dict[str, list[int]] = {}
    for n, p in sorted(files.items()):
        if not n.endswith("_scene.json"):
            continue
        scene = n[: -len("_scene.json")]
        stem = scene[2:] if scene.startswith("m_") else scene
        image = cv2.imread(files[f"{stem}.png"], cv2.IMREAD_COLOR)
        height, width = image.shape[:2]
        objs = json.load(open(p))["scenes"][0]["objects"]
        scene_objects[scene] = sorted(o["index"] for o in objs)
        for o in objs:
            x, y, h, w = o["bbox"]
            x0, y0, x1, y1 = max(0, x), max(0, y), min(width, x + w), min(height, y + h)
            ok, buf = cv2.imencode(".jpg", image[y0:y1, x0:x1], [cv2.IMWRITE_JPEG_QUALITY, quality])
            data = buf.tobytes()
            digest = hashlib.sha256(data).hexdigest()
            pid = f"{scene}:{o['index']}"
            meta = prefab[o["prefab_path"]]
            attrs = {k: (", ".join(map(str, v)) if isinstance(v, list) else str(v)) for k, v in sorted(meta.items())}
            rows["images"].append(
                {"dataset": "simmc", "image_id": digest, "split": "shared", "source_key": pid, "uri": files[f"{stem}.png"], "data": data,
                 "width": x1 - x0, "height": y1 - y0, "format": "jpeg", "source": "crop", "privacy_status": "unchecked", "privacy_audit": None}
            )  # fmt: skip
            rows["products"].append(
                {"dataset": "simmc", "product_id": pid, "split": "shared", "name": o["prefab_path"].rsplit("/", 1)[-1], "category": attrs.get("type"),
                 "attributes": list(attrs.items()), "description": "; ".join(f"{k}: {v}" for k, v in attrs.items()),
                 "image_refs": [f"{stem}.png"], "image_ids": [digest], "source": p}
            )  # fmt: skip
    for n, p in sorted(files.items()):
        if not (n.startswith("simmc2.1_dials_dstc11_") and n.endswith(".json")):
            continue
        split = SPLITS[n[len("simmc2.1_dials_dstc11_") : -len(".json")].replace("_public", "")]
        for d in json.load(open(p))["dialogue_data"]:
            did = str(d["dialogue_idx"])
            starts = {int(k): v for k, v in d["scene_ids"].items()}
            history, belief = [], {}
            for t in d["dialogue"]:
                scene = starts[max(k for k in starts if k <= t["turn_idx"])]
                scene = scene if scene in scene_objects else f"m_{scene}"
                for speaker, text, ann in (
                    ("user", t["transcript"], t.get("transcript_annotated")),
                    ("system", t.get("system_transcript", ""), t.get("system_transcript_annotated")),
                ):
                    index = len(history)
                    if speaker == "system" and t.get("transcript_annotated") and t["transcript_annotated"]["act_attributes"]["objects"]:
                        pos = list(dict.fromkeys(t["transcript_annotated"]["act_attributes"]["objects"]))
                        ctx = [{"turn_index": i, "speaker": s, "text": x, "image_ids": [], "image_refs": []} for i, s, x in history[-10:]]
                        neg = [f"{scene}:{o}" for o in scene_objects[scene] if o not in pos]
                        rows["rec_samples"].append(
                            {"dataset": "simmc", "sample_id": f"{did}:{index}", "dialog_id": did, "split": split, "turn_index": index, "context": ctx,
                             "context_start": ctx[0]["turn_index"], "positive_ids": [f"{scene}:{o}" for o in pos], "negative_ids": neg,
                             "num_positives": len(pos), "num_negatives": len(neg)}
                        )  # fmt: skip
                    rows["turns"].append(
                        {"dataset": "simmc", "dialog_id": did, "split": split, "turn_index": index, "speaker": speaker, "text": text, "text_templated": None,
                         "image_refs": [], "image_ids": [], "item_ids": [f"{scene}:{o}" for o in ((ann or {}).get("act_attributes") or {}).get("objects", [])],
                         "annotations": json.dumps({"turn_idx": t["turn_idx"], "scene": scene, "annotated": ann}, sort_keys=True)}
                    )  # fmt: skip
                    if speaker == "user" and ann is not None:
                        belief.update({k: str(v) for k, v in ann["act_attributes"]["slot_values"].items()})
                        rows["dialog_states"].append(
                            {"dataset": "simmc", "dialog_id": did, "split": split, "turn_index": index, "slots": sorted(belief.items()), "source": "gold",
                             "annotator": None, "created_at": None}
                        )  # fmt: skip
                    history.append((index, speaker, text))
            rows["dialogs"].append(
                {"dataset": "simmc", "dialog_id": did, "split": split, "source": p, "num_turns": len(history), "domain": d["domain"],
                 "meta": json.dumps({"scene_ids": d["scene_ids"]})}
            )  # fmt: skip
    for table, rs in rows.items():
        os.makedirs(os.path.join(out, table), exist_ok=True)
        t = get(table)
        arrow = t.to_arrow(rs)
        if t.sort_key and arrow.num_rows:
            arrow = arrow.sort_by([(k, "ascending") for k in t.sort_key])
        pq.write_table(arrow, os.path.join(out, table, f"{table}.parquet"), compression="zstd")
    return {t: len(rs) for t, rs in rows.items()}


# -- the Beam build --------------------------------------------------------------------------
def beam_build(raw: str, out: str, workers: int) -> dict[str, int]:
    from pipelines.core.engine import BuildOptions, run_build
    from pipelines.simmc.builder import SIMMCBuilder

    total = sum(u.size for u in SIMMCBuilder(raw=raw).plan())
    manifest = run_build(SIMMCBuilder(raw=raw), BuildOptions(out=out, workers=workers, shard_bytes=max(1, total // 8), progress=False))
    return {t: sum(v["rows"] for v in manifest["tables"][t].values()) for t in TABLES} | {"_shards": manifest["num_shards"]}


def timed(fn, *args) -> tuple[float, dict]:
    t0 = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - t0, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dialogs", type=int, default=2000)
    ap.add_argument("--scenes", type=int, default=300)
    ap.add_argument("--objects", type=int, default=24)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=720)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--work", default="", help="Scratch folder (default: a temporary one, removed after).")
    ap.add_argument("--results", default=str(ROOT / "benchmarks" / "results" / "simmc.json"))
    args = ap.parse_args()

    from pipelines.simmc.generator import GeneratorConfig, generate

    work = args.work or tempfile.mkdtemp(prefix="bench-simmc-")
    raw = os.path.join(work, "raw")
    try:
        cfg = GeneratorConfig(
            out=raw,
            dialogs=args.dialogs,
            scenes=args.scenes,
            objects=args.objects,
            width=args.width,
            height=args.height,
            flavour="2.1",
            seed=7,
        )
        marker = Path(raw) / "GENERATED.json"
        if marker.exists() and json.loads(marker.read_text())["config"] == cfg.__dict__:  # --work reuse
            t_gen, counts = 0.0, json.loads(marker.read_text())["counts"]
        else:
            shutil.rmtree(raw, ignore_errors=True)
            t_gen, counts = timed(generate, cfg)
        input_bytes = sum(f.stat().st_size for f in Path(raw).rglob("*") if f.is_file())
        runs = {"baseline": [], "beam": []}
        rows = {}
        for r in range(args.repeats):
            for name, fn, extra in (("baseline", baseline_build, ()), ("beam", beam_build, (args.workers,))):
                out = os.path.join(work, f"{name}-{r}")
                seconds, result = timed(fn, raw, out, *extra)
                runs[name].append(round(seconds, 3))
                rows[name] = result
                shutil.rmtree(out, ignore_errors=True)
        best = {k: min(v) for k, v in runs.items()}
        crops = rows["baseline"]["images"]
        valid = all(rows["baseline"][t] == rows["beam"][t] for t in TABLES)
        result = {
            "benchmark": "simmc-crops",
            "valid": valid,
            "corpus": {
                "dialogs": args.dialogs,
                "scenes": counts["scenes"],
                "screenshots": counts["screenshots"],
                "screenshot_size": [args.width, args.height],
                "products": counts["products"],
                "input_mib": round(input_bytes / 2**20, 1),
                "generate_seconds": round(t_gen, 2),
            },
            "rows": rows,
            "seconds": {"baseline": best["baseline"], "beam": best["beam"], "all_runs": runs},
            "speedup": round(best["baseline"] / best["beam"], 3),
            "crops_per_second": {k: round(crops / v, 1) for k, v in best.items()},
            "beam_workers": args.workers,
            "machine": {
                "cpus": os.cpu_count(),
                "load_average_after": [round(x, 2) for x in os.getloadavg()],  # other work on the box skews both sides
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
        }
        os.makedirs(os.path.dirname(args.results), exist_ok=True)
        with open(args.results, "w") as fh:
            json.dump(result, fh, indent=2, sort_keys=True)
            fh.write("\n")
        print(json.dumps({k: result[k] for k in ("valid", "seconds", "speedup", "crops_per_second")}, indent=2))
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
