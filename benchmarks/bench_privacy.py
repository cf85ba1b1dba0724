"""Privacy masking benchmark: PII recall/precision by box, residue after masking, benign text kept,
per entity type and per layout, and throughput against the raw OCR engine measured in the same run.

    nice python benchmarks/bench_privacy.py --part heldout --n 63 --seed 2026 --out RESULTS.json [--beam]

`--part heldout` (the default) draws the generator's held-out part: label words, names, value
formats, chat templates and layouts the recognisers were not tuned on (pipelines/privacy/
generator_vocab.py); `--part tune` draws the part tests and tuning use; `--part fresh` draws the fresh held-out part
(benchmarks/heldout/image_gen.py: layouts, label words, names and formats written blind to the
recognisers after the old held-out part had been looked at; never tune on it). Everything runs on synthetic
images from pipelines/privacy/generator.py (see benchmarks/privacy_gen.py), with the default policy
(`pii`, no category overrides) and the offline rapidocr engine at one onnxruntime thread (one
core). Metric definitions: pipelines/privacy/evaluate.py. The results file is written where
`--out` says (never over a tracked file by default).

Throughput: for every image, in turn, the raw engine (decode + OCR: the floor any masking pays) and
the full masker (decode + OCR + recognisers + geometry + fill + re-encode + audit) are timed on
the same single core; images/s per core = images / summed seconds; the ratio masker/raw is the
overhead figure (target >= 0.9). Text-free images (product photos) and flat images (fast path:
no OCR at all) are reported separately. `--beam` also times `mmdial mask` end to end (Beam,
one worker per core, engine start-up included).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from pipelines.privacy import evaluate as ev  # noqa: E402
from pipelines.privacy import generator  # noqa: E402


def _flat_images(n: int) -> list[bytes]:
    import cv2
    import numpy as np

    out = []
    for i in range(n):
        img = np.full((600, 480, 3), 40 + 20 * (i % 10), np.uint8)
        out.append(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes())
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=63)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--part", choices=("heldout", "tune", "fresh"), default="heldout")
    ap.add_argument("--flat", type=int, default=10, help="flat (text-free, uniform) images for the fast path")
    ap.add_argument("--beam", action="store_true", help="also time `mmdial mask` end to end")
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--out", required=True, help="results JSON file to write")
    args = ap.parse_args()

    from pipelines.privacy.codec import decode
    from pipelines.privacy.engines import RapidOCREngine
    from pipelines.privacy.policy import load_config
    from pipelines.privacy.stage import PrivacyMasker

    t0 = time.time()
    if args.part == "fresh":
        from benchmarks.heldout import image_gen

        samples = image_gen.generate(args.n, args.seed)
    else:
        samples = generator.generate(args.n, args.seed, part=args.part)
    gen_s = time.time() - t0
    work = tempfile.mkdtemp(prefix="mmdial-privacy-bench-")
    img_dir = generator.write(samples, work)

    cfg = load_config(overrides=["category_overrides={}", "engine.threads=1"])
    raw = RapidOCREngine(threads=1)
    masker = PrivacyMasker(cfg)
    masker.setup()
    max_px = int(cfg["limits"]["max_pixels"])
    for s in samples[:2]:  # warm both
        raw.ocr(decode(s.data, max_px).bgr)
        masker.mask({"image_id": "w", "source_key": s.name, "data": s.data, "format": s.fmt})

    raw_s = {"text": 0.0, "no_text": 0.0}
    pipe_s = {"text": 0.0, "no_text": 0.0}
    counts = {"text": 0, "no_text": 0}
    outcomes = []
    for s in samples:
        group = "text" if s.planted else "no_text"
        t = time.perf_counter()
        raw.ocr(decode(s.data, max_px).bgr)
        raw_s[group] += time.perf_counter() - t
        t = time.perf_counter()
        o = masker.mask({"image_id": s.name, "source_key": s.name, "data": s.data, "format": s.fmt})
        pipe_s[group] += time.perf_counter() - t
        counts[group] += 1
        outcomes.append(o)

    flat = _flat_images(args.flat)
    flat_raw = flat_pipe = 0.0
    flat_status = []
    for data in flat:
        t = time.perf_counter()
        raw.ocr(decode(data, max_px).bgr)
        flat_raw += time.perf_counter() - t
        t = time.perf_counter()
        o = masker.mask({"image_id": "f", "source_key": "flat.jpg", "data": data, "format": "jpeg"})
        flat_pipe += time.perf_counter() - t
        flat_status.append(o.status)

    # quality (untimed): boxes, residue by re-OCR of the masked bytes, benign text kept
    tot = {"pii_boxes": 0, "detected": 0, "masks": 0, "mask_hits": 0, "benign_planted": 0, "benign_before": 0, "benign_after": 0}
    residue, partial, per_entity, per_kind, missed, status = [], [], {}, {}, [], {}
    per_lang, kind_masks, kind_benign = {}, {}, {}
    for s, o in zip(samples, outcomes, strict=True):
        status[o.status] = status.get(o.status, 0) + 1
        if o.image is None:
            continue
        img = decode(o.image["data"], max_px).bgr
        h, w = img.shape[:2]
        bm = ev.box_metrics(s.planted, [m.polygon for m in o.masks], w, h)
        again = [ln.text for ln in masker.ocr(img)] if o.masks else [ln.text for ln in o.lines]
        r = ev.residue(s.planted, again)
        b = ev.benign(s.planted, [ln.text for ln in o.lines], again)
        for k in ("pii_boxes", "detected", "masks", "mask_hits"):
            tot[k] += bm[k]
        tot["benign_planted"] += b["planted"]
        tot["benign_before"] += b["readable_before"]
        tot["benign_after"] += b["readable_after"]
        residue += [{"image": s.name, "text": t} for t in r["readable"]]
        partial += [{"image": s.name, "text": t} for t in r["partial"]]
        km = kind_masks.setdefault(s.kind, [0, 0])
        km[0] += bm["masks"]
        km[1] += bm["mask_hits"]
        kb = kind_benign.setdefault(s.kind, [0, 0])
        kb[0] += b["readable_before"]
        kb[1] += b["readable_after"]
        pii = [p for p in s.planted if p.pii]
        for p, c in zip(pii, bm["coverage"], strict=True):
            e = per_entity.setdefault(p.entity, [0, 0])
            e[0] += 1
            e[1] += c >= ev.COVER
            k = per_kind.setdefault(s.kind, [0, 0])
            k[0] += 1
            k[1] += c >= ev.COVER
            g = per_lang.setdefault(s.lang, [0, 0])
            g[0] += 1
            g[1] += c >= ev.COVER
            if c < ev.COVER:
                missed.append({"image": s.name, "entity": p.entity, "text": p.text, "coverage": round(c, 3)})

    def rate(a, b):
        return round(a / b, 4) if b else None

    n_all = counts["text"] + counts["no_text"]
    raw_total = raw_s["text"] + raw_s["no_text"]
    pipe_total = pipe_s["text"] + pipe_s["no_text"]
    result = {
        "benchmark": "privacy masking (pipelines/privacy)",
        "part": args.part,
        "definitions": "pipelines/privacy/evaluate.py; throughput: benchmarks/bench_privacy.py docstring",
        "setup": {
            "images": n_all,
            "seed": args.seed,
            "kinds": dict(sorted({s.kind: sum(x.kind == s.kind for x in samples) for s in samples}.items())),
            "planted_pii": tot["pii_boxes"],
            "engine": masker.engine.info()["name"] + " " + str(masker.engine.info()["version"]),
            "policy": "pii (default), no category overrides",
            "threads_per_engine": 1,
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "generate_seconds": round(gen_s, 2),
        },
        "quality": {
            "pii_recall_by_box": rate(tot["detected"], tot["pii_boxes"]),
            "pii_precision_by_box": rate(tot["mask_hits"], tot["masks"]),
            "coverage_threshold": ev.COVER,
            "precision_hit_threshold": ev.HIT,
            "recall_by_entity": {k: {"recall": rate(v[1], v[0]), "n": v[0]} for k, v in sorted(per_entity.items())},
            "recall_by_layout": {k: {"recall": rate(v[1], v[0]), "n": v[0]} for k, v in sorted(per_kind.items())},
            "recall_by_language": {k: {"recall": rate(v[1], v[0]), "n": v[0]} for k, v in sorted(per_lang.items())},
            "precision_by_layout": {k: rate(v[1], v[0]) for k, v in sorted(kind_masks.items())},
            "benign_kept_by_layout": {k: rate(v[1], v[0]) for k, v in sorted(kind_benign.items())},
            "missed": missed,
            "residue_readable_pii": len(residue),
            "residue_partial_pii": len(partial),
            "residue_details": residue + partial,
            "benign_planted": tot["benign_planted"],
            "benign_readable_before": tot["benign_before"],
            "benign_readable_after": tot["benign_after"],
            "benign_kept_ratio": rate(tot["benign_after"], tot["benign_before"]),
            "status_counts": dict(sorted(status.items())),
        },
        "throughput": {
            "raw_engine_images_per_s_per_core": rate(n_all, raw_total),
            "masker_images_per_s_per_core": rate(n_all, pipe_total),
            "masker_over_raw": rate(raw_total, pipe_total),
            "text_images": {
                "n": counts["text"],
                "raw_ips": rate(counts["text"], raw_s["text"]),
                "masker_ips": rate(counts["text"], pipe_s["text"]),
                "masker_over_raw": rate(raw_s["text"], pipe_s["text"]),
            },
            "no_text_photos": {
                "n": counts["no_text"],
                "raw_ips": rate(counts["no_text"], raw_s["no_text"]),
                "masker_ips": rate(counts["no_text"], pipe_s["no_text"]),
                "masker_over_raw": rate(raw_s["no_text"], pipe_s["no_text"]),
            },
            "flat_images_fast_path": {
                "n": len(flat),
                "raw_ips": rate(len(flat), flat_raw),
                "masker_ips": rate(len(flat), flat_pipe),
                "masker_over_raw": rate(flat_raw, flat_pipe),
                "statuses": sorted(set(flat_status)),
            },
            "target_masker_over_raw": 0.9,
        },
    }
    if args.beam:
        out = os.path.join(work, "out")
        workers = args.workers or os.cpu_count() or 1
        cmd = [
            sys.executable,
            "-c",
            "import sys; from pipelines.cli.main import main; sys.argv[0]='mmdial'; main()",
            "mask",
            "--in",
            img_dir,
            "--out",
            out,
            "--workers",
            str(workers),
            "--shard-mib",
            "2",
            "--quiet",
            "--set",
            "category_overrides={}",
        ]
        t = time.time()
        subprocess.run(cmd, check=True, cwd=ROOT)
        wall = time.time() - t
        manifest = json.load(open(os.path.join(out, "manifest.json")))
        result["throughput"]["beam_end_to_end"] = {
            "workers": workers,
            "shards": manifest["num_shards"],
            "wall_s": round(wall, 2),
            "images_per_s": rate(n_all, wall),
            "images_per_s_per_core": rate(n_all, wall * workers),
            "over_raw_per_core": rate(n_all / (wall * workers), n_all / raw_total),
            "note": "includes Beam start-up and one engine load per worker; small runs are dominated by them",
            "stats": {k: v for k, v in manifest["stats"].items() if k.startswith("privacy.")},
        }
    q = result["quality"]
    result["done_when"] = {
        "recall_ge_0.97_every_entity_with_10_samples": all(v["recall"] >= 0.97 for v in q["recall_by_entity"].values() if v["n"] >= 10),
        "no_readable_residue": q["residue_readable_pii"] == 0,
        "benign_kept_ge_0.95": (q["benign_kept_ratio"] or 0) >= 0.95,
        "throughput_ge_0.9_raw": (result["throughput"]["masker_over_raw"] or 0) >= 0.9,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=2, ensure_ascii=False, sort_keys=False)
        fh.write("\n")
    q, tp = result["quality"], result["throughput"]
    print(
        f"recall {q['pii_recall_by_box']} precision {q['pii_precision_by_box']} residue {q['residue_readable_pii']} (partial {q['residue_partial_pii']}) benign kept {q['benign_kept_ratio']}"
    )
    print(
        f"raw {tp['raw_engine_images_per_s_per_core']} img/s/core, masker {tp['masker_images_per_s_per_core']} img/s/core, ratio {tp['masker_over_raw']}; flat fast path ratio {tp['flat_images_fast_path']['masker_over_raw']}"
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
