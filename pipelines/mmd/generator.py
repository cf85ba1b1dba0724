"""Synthetic MMD corpus in the native formats (Saha's URLs, or Nie's MMD 2.0 ids), any size.

The structure is learnable on purpose: every product has a type, colour, material, brand and
gender; its image is a drawing whose shape follows the type and whose fill follows the colour;
users ask for attribute combinations and the positives of each recommendation turn match the
request while the negatives do not. Dialog states (the belief state after each user turn) can be
written for a fraction of the dialogs, in the documented states JSONL form.

Layout written under OUT:
    dialogs/{train,valid,test}/<dialog_id>.json   native dialog files (70/15/15)
    knowledge/products/<product_id>.json          one product per file
    images/<product_id>.jpg                       one image per product (unless --no-images)
    url2img.txt                                   "<url> <file name>" lines
    image_id.json                                 MMD 2.0 only: [{url: id}]
    states.jsonl                                  dialog states for --states-fraction of dialogs
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass

TYPES = ["shirt", "jeans", "dress", "sunglasses", "shoes", "jacket", "skirt", "watch", "bag", "hat"]
COLORS = {
    "red": (200, 30, 30),
    "blue": (30, 60, 200),
    "green": (30, 160, 60),
    "black": (20, 20, 20),
    "white": (235, 235, 235),
    "yellow": (230, 210, 40),
    "pink": (240, 120, 170),
    "brown": (120, 80, 40),
}
MATERIALS = ["cotton", "leather", "denim", "silk", "wool", "polyester"]
BRANDS = ["acme", "northwind", "contoso", "fabrikam", "globex", "initech"]
GENDERS = ["men", "women"]
URL_PREFIX = "http://img.mmd.example/catalog/"


@dataclass
class GeneratorConfig:
    out: str
    dialogs: int = 200
    products: int = 0  # 0: scale with the dialogs
    seed: int = 0
    fmt: str = "saha"  # or "mmd2"
    images: bool = True
    image_size: int = 64
    states_fraction: float = 0.2
    positives: int = 3
    negatives: int = 5
    bad: int = 0  # malformed dialog files to add (for demos and tests of dead letters)
    overlap: float = 0.0  # fraction of recommendation turns whose "false images" also list one of their positives (as native MMD does)
    rounds: tuple[int, int] = (1, 3)  # recommendation rounds per dialog (about 4 to 6 utterances each)


def _product_image(ptype: str, color: tuple[int, int, int], size: int, rng: random.Random) -> bytes:
    import cv2
    import numpy as np

    canvas = np.full((size, size, 3), 250, np.uint8)
    bgr = color[::-1]
    k = TYPES.index(ptype)
    c, r = size // 2, size // 3
    if k % 5 == 0:
        cv2.rectangle(canvas, (c - r, c - r), (c + r, c + r), bgr, -1)
    elif k % 5 == 1:
        cv2.circle(canvas, (c, c), r, bgr, -1)
    elif k % 5 == 2:
        pts = np.array([[c, c - r], [c - r, c + r], [c + r, c + r]], np.int32)
        cv2.fillPoly(canvas, [pts], bgr)
    elif k % 5 == 3:
        cv2.ellipse(canvas, (c, c), (r, r // 2), 0, 0, 360, bgr, -1)
    else:
        cv2.rectangle(canvas, (c - r, c - r // 3), (c + r, c + r // 3), bgr, -1)
    if k >= 5:  # second family of types: add stripes so shape alone does not decide the type
        for y in range(0, size, 6):
            cv2.line(canvas, (0, y), (size, y), (128, 128, 128), 1)
    noise = np.asarray([rng.randint(-8, 8) for _ in range(3)], np.int16)
    canvas = np.clip(canvas.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return buf.tobytes()


def _write(path: str, data: bytes | str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(path, mode, **({} if isinstance(data, bytes) else {"encoding": "utf-8"})) as fh:
        fh.write(data)


def make_catalogue(rng: random.Random, n: int) -> list[dict]:
    products = []
    for i in range(n):
        p = {
            "product_id": f"P{i:06d}",
            "type": TYPES[i % len(TYPES)],
            "color": list(COLORS)[(i // len(TYPES)) % len(COLORS)],
            "material": rng.choice(MATERIALS),
            "brand": rng.choice(BRANDS),
            "gender": rng.choice(GENDERS),
            "price": str(rng.randint(5, 200)),
        }
        products.append(p)
    return products


def _utt(speaker: str, nlg: str | None, images=None, false_images=None, **ann) -> dict:
    body = {"nlg": nlg, "images": images, "false nlg": None, "false images": false_images}
    return {"speaker": speaker, "type": ann.pop("type", "question" if speaker == "user" else "response"), **ann, "utterance": body}


def make_dialog(rng: random.Random, cat: list[dict], by_key: dict, cfg: GeneratorConfig, ref) -> tuple[list[dict], list[dict]]:
    """(native utterances, states per user turn)."""
    utts: list[dict] = []
    states: list[dict] = []
    belief: dict[str, str] = {}

    def user(text, **slots):
        belief.update(slots)
        utts.append(_utt("user", text))
        states.append({"turn_index": len(utts) - 1, "slots": dict(belief)})

    utts.append(_utt("user", rng.choice(["Hi", "Hello there", "Hey"]), type="greeting"))
    utts.append(_utt("system", "Hello, what can I help you find today?", type="greeting"))
    states.append({"turn_index": 0, "slots": {}})
    target = rng.choice(cat)
    ptype, color = target["type"], target["color"]
    user(f"I want to see some {color} {ptype} for {target['gender']}", type=ptype, color=color, gender=target["gender"])
    for round_ in range(rng.randint(*cfg.rounds)):
        if round_ > 0:
            color = rng.choice([c for c in COLORS if c != color])
            material = rng.choice(MATERIALS)
            user(f"Show me something similar in {color} {material}", color=color, material=material)
        utts.append(_utt("system", "Sure, let me search the catalogue for you.", **{"question-type": "show_result"}))
        matches = by_key.get((ptype, color), [])
        if not matches:
            continue
        pos = rng.sample(matches, min(cfg.positives, len(matches)))
        neg = _sample_other(rng, cat, ptype, color, cfg.negatives)
        if cfg.overlap and rng.random() < cfg.overlap:  # no draw at 0, so default corpora stay as they were
            neg.insert(rng.randrange(len(neg) + 1), rng.choice(pos))
        utts.append(
            _utt("system", None, images=[ref(p) for p in pos], false_images=[ref(p) for p in neg], **{"question-type": "show_result"})
        )
        utts.append(_utt("system", f"Here are some {color} {ptype}. The first one is by {pos[0]['brand']}.", type="response"))
        if rng.random() < 0.5:
            user(f"What is the material of the first {ptype}?")
            utts.append(_utt("system", f"It is made of {pos[0]['material']}.", type="answer"))
    utts.append(_utt("user", "Thanks, bye!", type="exit-message"))
    states.append({"turn_index": len(utts) - 1, "slots": dict(belief)})
    return utts, states


def _sample_other(rng: random.Random, cat: list[dict], ptype: str, color: str, k: int) -> list[dict]:
    """k distinct products that do not match (type, colour): rejection sampling, O(k) not O(catalogue)."""
    picked: dict[str, dict] = {}
    for _ in range(k * 50):
        if len(picked) == k:
            break
        p = cat[rng.randrange(len(cat))]
        if not (p["type"] == ptype and p["color"] == color):
            picked.setdefault(p["product_id"], p)
    return list(picked.values())


BAD_KINDS = ("truncated", "wrong_type", "unknown_speaker", "empty", "missing_image")


def generate(cfg: GeneratorConfig) -> dict:
    """Write the corpus; returns counts (what a build of it should report)."""
    rng = random.Random(cfg.seed)
    n_products = cfg.products or max(len(TYPES) * len(COLORS) * 2, cfg.dialogs // 2)
    cat = make_catalogue(rng, n_products)
    by_key: dict[tuple[str, str], list[dict]] = {}
    for p in cat:
        by_key.setdefault((p["type"], p["color"]), []).append(p)
    url = {p["product_id"]: f"{URL_PREFIX}{p['product_id']}.jpg" for p in cat}
    ids = {p["product_id"]: f"img{i:07d}" for i, p in enumerate(cat)}
    ref = (lambda p: ids[p["product_id"]]) if cfg.fmt == "mmd2" else (lambda p: url[p["product_id"]])
    lines = [f"{url[p['product_id']]} {p['product_id']}.jpg" for p in cat]
    _write(os.path.join(cfg.out, "url2img.txt"), "\n".join(lines) + "\n")
    if cfg.fmt == "mmd2":
        _write(os.path.join(cfg.out, "image_id.json"), json.dumps([{url[k]: v for k, v in ids.items()}]))
    for p in cat:
        doc = {k: v for k, v in p.items() if k != "product_id"}
        doc["product_name"] = f"{p['brand']} {p['color']} {p['material']} {p['type']}"
        doc["taxonomy"] = p["type"]
        _write(os.path.join(cfg.out, "knowledge", "products", f"{p['product_id']}.json"), json.dumps(doc, sort_keys=True))
        if cfg.images:
            _write(
                os.path.join(cfg.out, "images", f"{p['product_id']}.jpg"),
                _product_image(p["type"], COLORS[p["color"]], cfg.image_size, rng),
            )
    counts = {
        "dialogs": 0,
        "utterances": 0,
        "rec_samples": 0,
        "positives": 0,
        "negatives": 0,
        "states_dialogs": 0,
        "state_turns": 0,
        "bad": 0,
        "products": len(cat),
    }
    states_lines = []
    for i in range(cfg.dialogs):
        split = "train" if i % 20 < 14 else ("valid" if i % 20 < 17 else "test")
        did = f"{i // 1000}_{i}"
        utts, states = make_dialog(rng, cat, by_key, cfg, ref)
        _write(os.path.join(cfg.out, "dialogs", split, f"{did}.json"), json.dumps(utts))
        counts["dialogs"] += 1
        counts["utterances"] += len(utts)
        for u in utts:
            b = u["utterance"]
            if u["speaker"] == "system" and b["images"] and b["false images"]:
                counts["rec_samples"] += 1
                counts["positives"] += len(set(b["images"]))
                counts["negatives"] += len(set(b["false images"]) - set(b["images"]))
        if rng.random() < cfg.states_fraction:
            counts["states_dialogs"] += 1
            for s in states:
                counts["state_turns"] += 1
                states_lines.append(json.dumps({"dialog_id": did, **s, "source": "annotated", "annotator": "synthetic"}, sort_keys=True))
    for j in range(cfg.bad):
        kind = BAD_KINDS[j % len(BAD_KINDS)]
        did = f"bad_{kind}_{j}"
        path = os.path.join(cfg.out, "dialogs", "train", f"{did}.json")
        good, _ = make_dialog(rng, cat, by_key, cfg, ref)
        if kind == "truncated":
            _write(path, json.dumps(good)[:-40])
        elif kind == "wrong_type":
            _write(path, json.dumps({"speaker": "user", "utterance": "not a list"}))
        elif kind == "unknown_speaker":
            good[1]["speaker"] = "robot"
            _write(path, json.dumps(good))
        elif kind == "empty":
            _write(path, "[]")
        else:  # a valid dialog whose image is not in the images folder: builds, listed as missing
            good.append(
                _utt("user", "like this one?", images=[f"{URL_PREFIX}does-not-exist-{j}.jpg" if cfg.fmt == "saha" else f"nosuchid{j}"])
            )
            _write(path, json.dumps(good))
            counts["dialogs"] += 1
            counts["utterances"] += len(good)
            counts["missing_images"] = counts.get("missing_images", 0) + 1
            for u in good:
                b = u["utterance"]
                if u["speaker"] == "system" and b["images"] and b["false images"]:
                    counts["rec_samples"] += 1
                    counts["positives"] += len(set(b["images"]))
                    counts["negatives"] += len(set(b["false images"]) - set(b["images"]))
            continue
        counts["bad"] += 1
    if states_lines:
        _write(os.path.join(cfg.out, "states.jsonl"), "\n".join(states_lines) + "\n")
    _write(
        os.path.join(cfg.out, "GENERATED.json"),
        json.dumps({"generator": "mmdial.mmd", "config": cfg.__dict__, "counts": counts}, indent=2, sort_keys=True),
    )
    return counts
