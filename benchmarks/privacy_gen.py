"""Write synthetic JDDC-like screenshots and photos with planted PII and ground-truth boxes.

    python benchmarks/privacy_gen.py --out /tmp/privacy-bench --n 63 --seed 2026 --part heldout

Output: OUT/images/*.jpg|png, OUT/truth.jsonl (planted strings, entity types, polygons, render
parameters) and OUT/image_categories.jsonl (exchange-format format, for per-category policies).
The generator itself is pipelines/privacy/generator.py (the tests use it too). Needs
fonts-noto-cjk (`make test` installs it where missing).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pipelines.privacy import generator  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument(
        "--part",
        choices=("tune", "heldout", "fresh"),
        default="heldout",
        help="vocabulary and layouts (pipelines/privacy/generator_vocab.py; fresh: benchmarks/heldout/image_gen.py)",
    )
    ap.add_argument("--kinds", default="", help="comma-separated layouts (default: all of the part's)")
    args = ap.parse_args()
    kinds = tuple(args.kinds.split(",")) if args.kinds else None
    if args.part == "fresh":
        from benchmarks.heldout import image_gen

        samples = image_gen.generate(args.n, args.seed, kinds)
    else:
        samples = generator.generate(args.n, args.seed, kinds, args.scale, part=args.part)
    img_dir = generator.write(samples, args.out)
    config = {k: v for k, v in vars(args).items() if k != "out"}
    with open(os.path.join(args.out, "GENERATED.json"), "w", encoding="utf-8") as fh:  # builds of it say they are synthetic
        json.dump({"generator": "mmdial.privacy", "config": config, "images": len(samples)}, fh, indent=2, sort_keys=True)
    pii = sum(p.pii for s in samples for p in s.planted)
    print(f"images={len(samples)} planted_pii={pii} dir={img_dir}")


if __name__ == "__main__":
    main()
