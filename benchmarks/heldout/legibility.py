"""Are the planted strings of the fresh image part readable by OCR on the ORIGINAL images?

    python -m benchmarks.heldout.legibility --n 20 --seed 1

Why: a miss on a string that OCR cannot read is not a masking decision, so the part is only
useful if (nearly) all planted strings are readable before masking. Prints, per entity, planted
strings readable by rapidocr (one thread) on the original / planted (the test of
pipelines/privacy/evaluate.py: normalised substring of the image's OCR text). No recogniser or
masker is involved.
"""

from __future__ import annotations

import argparse


def legibility(samples, engine, unreadable: list | None = None) -> dict:
    """entity -> [readable, planted] over `samples`, OCR'd with `engine`; the strings OCR cannot
    read are appended to `unreadable` as (image, entity, text, OCR lines)."""
    import cv2
    import numpy as np

    from pipelines.privacy import evaluate as ev

    out: dict[str, list[int]] = {}
    for s in samples:
        img = cv2.imdecode(np.frombuffer(s.data, np.uint8), cv2.IMREAD_COLOR)
        texts = [ln.text for ln in engine.ocr(img)]
        for p in s.planted:
            e = out.setdefault(p.entity, [0, 0])
            ok = ev.readable(p.text, texts)
            e[0] += ok
            if not ok and unreadable is not None:
                unreadable.append((s.name, p.entity, p.text, texts))
            e[1] += 1
    return out


def main(argv: list[str] | None = None) -> None:
    from benchmarks.heldout import image_gen
    from pipelines.privacy.engines import RapidOCREngine

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--show", action="store_true", help="print the strings OCR cannot read, with the OCR lines")
    args = ap.parse_args(argv)
    missed: list = []
    res = legibility(image_gen.generate(args.n, args.seed), RapidOCREngine(threads=1), missed)
    if args.show:
        for name, entity, text, lines in missed:
            print(f"{name} {entity} {text!r}\n    OCR: {lines}")
    for entity, (ok, n) in sorted(res.items()):
        print(f"{entity:16s} {ok}/{n}")
    pii = [v for k, v in res.items() if k != "benign"]
    print(f"personal strings readable on the originals: {sum(v[0] for v in pii)}/{sum(v[1] for v in pii)}")


if __name__ == "__main__":
    main()
