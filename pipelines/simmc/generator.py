"""Synthetic SIMMC 2.x release in the native formats, any size, with scenes and screenshots.

What is real about it (FORMATS.md section 1): dialog files of both flavours holding the same
dialogs and text (2.0: turn-level `disambiguation_label`, objects kept on ambiguous turns; 2.1:
label and candidates inside `transcript_annotated`, objects emptied on ambiguous turns); the
published splits (train/dev/devtest/teststd, about 65/5/15/15) with test-std in its public form
(truncated, user annotations removed, last `system_transcript` withheld, 2.1 `year` a string);
scene changes mid-dialog through `scene_ids`; `m_` scenes drawn on the screenshot without the
prefix, and dialogs that name an `m_` scene without it; system slot values keyed per object;
scene JSONs with bbox [x, y, HEIGHT, WIDTH]; prefab metadata keyed by prefab path.

Screenshots are PNGs on which every object is drawn inside its bbox (shape from its type, fill
from its colour, stripes for striped patterns), so crops by bbox show the object. A few bboxes
run off the screen edge, as real ones do.

Layout under OUT (a mix of the repo's and the zips' folders; the build finds files by name):
    data/simmc2.1_dials_dstc11_{train,dev,devtest,teststd_public}.json
    dstc10/data/simmc2_dials_dstc10_{train,dev,devtest,teststd_public}.json
    data/public/<scene>_scene.json
    data/images/<scene without m_>.png
    data/{fashion,furniture}_prefab_metadata_all.json
    GENERATED.json       config and the counts a build of each flavour should report
"""

from __future__ import annotations

import copy
import json
import math
import os
import random
from dataclasses import dataclass, field

FASHION_TYPES = ["blouse", "shirt", "jacket", "dress", "trousers", "skirt", "coat", "hoodie", "sweater", "jeans", "tshirt", "vest"]
FURNITURE_TYPES = ["sofa", "chair", "table", "lamp", "bed", "shelves", "area rug", "coffee table"]
COLORS = {
    "red": (200, 30, 30),
    "blue": (30, 60, 200),
    "green": (30, 150, 60),
    "black": (25, 25, 25),
    "white": (240, 240, 240),
    "yellow": (230, 210, 40),
    "pink": (240, 120, 170),
    "brown": (120, 80, 40),
    "grey": (128, 128, 128),
}
PATTERNS = ["plain", "striped", "checkered", "floral"]
BRANDS = ["Uptown Gallery", "North Lodge", "Coats & More", "Nature Photographers", "Home Store", "Modern Arts"]
SIZES = ["XS", "S", "M", "L", "XL", "XXL"]
MATERIALS = ["wood", "leather", "metal", "fabric", "marble"]
SLEEVES = ["short", "long", "sleeveless", "half"]

PUBLISHED_SPLITS = ("train", "dev", "devtest", "teststd")
SPLIT_ORDER = ["train"] * 13 + ["dev"] + ["devtest"] * 3 + ["teststd"] * 3  # 65/5/15/15 as the release
MMDIAL_SPLIT = {"train": "train", "dev": "valid", "devtest": "devtest", "teststd": "teststd"}
BAD_KINDS = ("wrong_type", "wrong_turn_type", "missing_scene", "missing_screenshot", "missing_prefab")


@dataclass
class GeneratorConfig:
    out: str
    dialogs: int = 200
    scenes: int = 0  # 0: scale with the dialogs
    objects: int = 24  # mean objects per scene
    width: int = 640
    height: int = 360
    flavour: str = "both"  # both, 2.0, 2.1
    furniture_fraction: float = 0.3
    bad: int = 0
    seed: int = 0


@dataclass
class Scene:
    name: str  # the scene file's name
    shot: str  # screenshot stem
    domain: str
    objects: list[dict] = field(default_factory=list)  # {"index", "prefab_path", "bbox", ...}
    refer_as: str = ""  # the name dialogs use (an `m_` scene may be named without its prefix)


def _write(path: str, data: bytes | str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    os.replace(tmp, path)


# -- catalogue and scenes ------------------------------------------------------------------
def make_prefabs(rng: random.Random, n: int) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for i in range(n):
        if i % 3 == 2:
            t = FURNITURE_TYPES[i % len(FURNITURE_TYPES)]
            path = f"FurnitureCollection/Prefabs/{t.replace(' ', '_')}_{i:03d}"
            out[path] = {
                "brand": rng.choice(BRANDS),
                "color": rng.choice(list(COLORS)),
                "customerRating": round(rng.uniform(2.0, 5.0), 1),
                "materials": rng.choice(MATERIALS),
                "price": f"${rng.randint(40, 900)}",
                "type": t.title().replace(" ", ""),
            }
        else:
            t = FASHION_TYPES[i % len(FASHION_TYPES)]
            path = f"WomensCollection/Prefabs/Rearranged/{t}_{i // len(FASHION_TYPES)}_{i:03d}"
            out[path] = {
                "assetType": rng.choice(["hanging", "folded", "shoes", "jacket_hanging"]),
                "customerReview": round(rng.uniform(2.0, 5.0), 1),
                "availableSizes": sorted(rng.sample(SIZES, rng.randint(1, 4)), key=SIZES.index),
                "color": rng.choice(list(COLORS)),
                "pattern": rng.choice(PATTERNS),
                "brand": rng.choice(BRANDS),
                "sleeveLength": rng.choice(SLEEVES),
                "type": t,
                "price": round(rng.uniform(10, 250), 2),
                "size": rng.choice(SIZES),
            }
    return out


def _layout(rng: random.Random, n: int, width: int, height: int) -> list[list[int]]:
    """n bboxes [x, y, h, w] in a jittered grid; about 1 in 25 runs off the right or bottom edge."""
    cols = max(1, math.ceil(math.sqrt(n * width / height)))
    rows = max(1, math.ceil(n / cols))
    cw, ch = width // cols, height // rows
    cells = rng.sample(range(cols * rows), n)
    out = []
    for c in cells:
        r, k = divmod(c, cols)
        w = max(4, int(cw * rng.uniform(0.55, 0.9)))
        h = max(4, int(ch * rng.uniform(0.55, 0.9)))
        x = k * cw + rng.randint(0, max(0, cw - w))
        y = r * ch + rng.randint(0, max(0, ch - h))
        if rng.random() < 0.04:  # partly off-screen: the crop is clipped to the screenshot
            x, y = width - w // 2, y if rng.random() < 0.5 else height - h // 2
        out.append([x, y, h, w])
    return out


def draw_screenshot(rng: random.Random, scene: Scene, prefabs: dict[str, dict], width: int, height: int) -> bytes:
    import cv2
    import numpy as np

    yy = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    base = (215 + 25 * yy).astype(np.uint8)
    canvas = np.repeat(np.repeat(base[:, :, None], width, axis=1), 3, axis=2)
    for obj in scene.objects:
        meta = prefabs.get(obj["prefab_path"]) or {"type": "unknown", "color": "grey"}
        x, y, h, w = obj["bbox"]
        bgr = tuple(int(v) for v in COLORS.get(meta["color"], (128, 128, 128))[::-1])
        kind = sum(map(ord, str(meta["type"]))) % 4
        x1, y1 = x + w - 1, y + h - 1
        if kind == 0:
            cv2.rectangle(canvas, (x, y), (x1, y1), bgr, -1)
        elif kind == 1:
            cv2.ellipse(canvas, (x + w // 2, y + h // 2), (max(1, w // 2), max(1, h // 2)), 0, 0, 360, bgr, -1)
        elif kind == 2:
            pts = np.array([[x + w // 2, y], [x, y1], [x1, y1]], np.int32)
            cv2.fillPoly(canvas, [pts], bgr)
        else:
            cv2.rectangle(canvas, (x + w // 4, y), (x1 - w // 4, y1), bgr, -1)
            cv2.rectangle(canvas, (x, y), (x1, y + h // 3), bgr, -1)
        if meta.get("pattern") == "striped":
            for sy in range(y, y1, 5):
                cv2.line(canvas, (x, sy), (x1, sy), (250, 250, 250), 1)
        cv2.rectangle(canvas, (x, y), (x1, y1), (60, 60, 60), 1)
    noise = np.asarray([rng.randint(-6, 6) for _ in range(3)], np.int16)
    canvas = np.clip(canvas.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".png", canvas, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    assert ok
    return buf.tobytes()


def make_scenes(rng: random.Random, cfg: GeneratorConfig, prefabs: dict[str, dict], n: int) -> list[Scene]:
    by_domain = {
        "fashion": [p for p, m in prefabs.items() if "assetType" in m],
        "furniture": [p for p, m in prefabs.items() if "assetType" not in m],
    }
    scenes: list[Scene] = []
    for s in range(n):
        domain = "furniture" if rng.random() < cfg.furniture_fraction else "fashion"
        base = (
            f"wayfair_store_{s}_{rng.randint(0, 20)}"
            if domain == "furniture"
            else f"cloth_store_{1000 + s}_woman_{rng.randint(0, 9)}_{rng.randint(0, 12)}"
        )
        k = max(2, round(cfg.objects * rng.uniform(0.75, 1.25)))
        boxes = _layout(rng, k, cfg.width, cfg.height)
        objs = [
            {
                "index": i,
                "unique_id": 1000 * s + i,
                "prefab_path": rng.choice(by_domain[domain]),
                "bbox": boxes[i],
                "position": [round(rng.uniform(-2, 2), 3), 0.0, round(rng.uniform(-2, 2), 3)],
            }
            for i in range(k)
        ]
        variant = rng.random()
        if domain == "fashion" and variant < 0.5:  # an `m_` scene on the screenshot without the prefix
            sc = Scene(f"m_{base}", base, domain, objs, refer_as=base if variant < 0.1 else f"m_{base}")
            scenes.append(sc)
            if variant > 0.4:  # and its unprefixed sibling on the same screenshot, indices reversed
                sib = [dict(o, index=k - 1 - o["index"]) for o in objs]
                scenes.append(Scene(base, base, domain, sorted(sib, key=lambda o: o["index"]), refer_as=base))
        else:
            scenes.append(Scene(base, base, domain, objs, refer_as=base))
    return scenes


def scene_json(scene: Scene) -> str:
    rel: dict[str, dict[str, list[int]]] = {"left": {}, "right": {}, "up": {}, "down": {}}
    for a in scene.objects:
        for b in scene.objects:
            if a is not b and b["bbox"][0] > a["bbox"][0] + a["bbox"][3]:
                rel["right"].setdefault(str(a["index"]), []).append(b["index"])
                rel["left"].setdefault(str(b["index"]), []).append(a["index"])
    return json.dumps({"scenes": [{"objects": scene.objects, "relationships": rel}]})


# -- dialogs -------------------------------------------------------------------------------
def _where(obj: dict, width: int) -> str:
    cx = obj["bbox"][0] + obj["bbox"][3] / 2
    return "on the left" if cx < width / 3 else ("in the middle" if cx < 2 * width / 3 else "on the right")


def _user_ann(
    act: str, slots: dict | None = None, request: list | None = None, objects: list | None = None, candidates: list | None = None
) -> dict:
    return {
        "act": act,
        "act_attributes": {"slot_values": slots or {}, "request_slots": request or [], "objects": objects or []},
        "disambiguation_label": 1 if candidates else 0,
        "disambiguation_candidates": candidates or [],
        "disambiguation_candidates_raw": candidates or [],
    }


def _sys_ann(act: str, slots: dict | None = None, request: list | None = None, objects: list | None = None) -> dict:
    return {"act": act, "act_attributes": {"slot_values": slots or {}, "request_slots": request or [], "objects": objects or []}}


def make_turn(rng: random.Random, t: int, scene: Scene, prefabs: dict[str, dict], width: int, focus: list[int]) -> dict:
    """One source turn in the 2.1 form; `_resolved` keeps the 2.0 objects of an ambiguous turn."""
    objs = {o["index"]: o for o in scene.objects}

    def meta(i):
        return prefabs.get(objs[i]["prefab_path"]) or {"type": "item", "color": "grey"}

    def desc(i):
        m = meta(i)
        return f"{m['color']} {str(m['type']).lower()} {_where(objs[i], width)}"

    o = rng.choice(focus) if focus and rng.random() < 0.6 else rng.choice(list(objs))
    kind = rng.choices(["get", "refine", "ask", "compare", "cart", "ambiguous"], [0.25, 0.1, 0.25, 0.15, 0.1, 0.15])[0]
    m = meta(o)
    typ = str(m["type"]).lower()
    turn: dict = {"turn_idx": t}
    if kind in ("get", "refine"):
        same = [i for i in objs if str(meta(i)["type"]).lower() == typ][:3]
        slots = {"type": typ, "color": m["color"]} if kind == "get" else {"brand": m["brand"]}
        text = f"Do you have any {m['color']} {typ}s?" if kind == "get" else f"Anything by {m['brand']}?"
        turn["transcript"] = text
        turn["transcript_annotated"] = _user_ann("REQUEST:GET" if kind == "get" else "INFORM:REFINE", slots)
        turn["system_transcript"] = "I have " + ", and ".join(f"the {desc(i)}" for i in same) + "."
        turn["system_transcript_annotated"] = _sys_ann("INFORM:GET", slots, objects=same)
    elif kind in ("ask", "ambiguous"):
        slot = rng.choice(
            ["price", "brand", "customerReview", "size"] if "assetType" in m else ["price", "brand", "customerRating", "materials"]
        )
        value = m.get(slot, "unknown")
        if kind == "ask":
            turn["transcript"] = f"What is the {slot} of the {desc(o)}?"
            turn["transcript_annotated"] = _user_ann("ASK:GET", request=[slot], objects=[o])
            turn["system_transcript"] = f"The {slot} is {value}."
            turn["system_transcript_annotated"] = _sys_ann("INFORM:GET", {f"Object ID: {o}": {slot: value}}, [slot], [o])
        else:
            other = rng.choice([i for i in objs if i != o] or [o])
            turn["transcript"] = f"What about the {slot} of that {typ}?"
            turn["transcript_annotated"] = _user_ann("ASK:GET", request=[slot], candidates=sorted({o, other}))
            turn["_resolved"] = [o]
            turn["system_transcript"] = f"Which {typ} do you mean?"
            turn["system_transcript_annotated"] = _sys_ann("REQUEST:DISAMBIGUATE")
    elif kind == "compare":
        o2 = rng.choice([i for i in objs if i != o] or [o])
        pair = list(dict.fromkeys([o, o2]))
        turn["transcript"] = f"Compare the price of the {desc(o)} and the {desc(o2)}."
        turn["transcript_annotated"] = _user_ann("REQUEST:COMPARE", request=["price"], objects=pair)
        turn["system_transcript"] = " ".join(f"The {desc(i)} is {meta(i).get('price')}." for i in pair)
        turn["system_transcript_annotated"] = _sys_ann(
            "INFORM:COMPARE", {f"Object ID: {i}": {"price": meta(i).get("price")} for i in pair}, ["price"], pair
        )
    else:
        size = rng.choice(SIZES)
        turn["transcript"] = f"Please add the {desc(o)} to my cart, size {size}."
        turn["transcript_annotated"] = _user_ann("REQUEST:ADD_TO_CART", {"size": size}, objects=[o])
        turn["system_transcript"] = "Done, it is in your cart."
        turn["system_transcript_annotated"] = _sys_ann("CONFIRM:ADD_TO_CART", objects=[o])
    return turn


def make_dialog(
    rng: random.Random, idx: int, scenes_by_domain: dict[str, list[Scene]], prefabs, width: int, scene_override: Scene | None = None
) -> tuple[dict, dict[int, Scene]]:
    """(dialog in the 2.1 form, start turn -> Scene)."""
    first = scene_override or rng.choice(scenes_by_domain[rng.choice([d for d in scenes_by_domain if scenes_by_domain[d]])])
    n = rng.randint(3, 8)
    in_force = {0: first}
    others = [s for s in scenes_by_domain[first.domain] if s.shot != first.shot]
    if scene_override is None and n >= 4 and others and rng.random() < 0.35:
        in_force[rng.randint(2, n - 1)] = rng.choice(others)
    turns, mentioned, focus = [], [], []
    for t in range(n):
        scene = in_force[max(k for k in in_force if k <= t)]
        if t in in_force:
            focus = []
        turn = make_turn(rng, t, scene, prefabs, width, focus)
        for i in (
            turn["transcript_annotated"]["act_attributes"]["objects"]
            + turn["system_transcript_annotated"]["act_attributes"]["objects"]
            + turn.get("_resolved", [])
        ):
            mentioned.append(i)
            focus.append(i)
        turns.append(turn)
    dialog = {
        "dialogue": turns,
        "dialogue_idx": idx,
        "domain": first.domain,
        "mentioned_object_ids": sorted(set(mentioned)),
        "scene_ids": {str(k): s.refer_as for k, s in sorted(in_force.items())},
    }
    return dialog, in_force


def to_v20(dialog: dict, rng: random.Random) -> dict:
    """The same dialog in the DSTC10 form: label on the turn, objects kept on ambiguous turns."""
    d = copy.deepcopy(dialog)
    for t in d["dialogue"]:
        ann = t.get("transcript_annotated")
        if ann is None:
            continue
        label = ann.pop("disambiguation_label")
        ann.pop("disambiguation_candidates")
        ann.pop("disambiguation_candidates_raw")
        if label:
            ann["act_attributes"]["objects"] = list(t.get("_resolved", []))
            t["disambiguation_label"] = 1
        elif rng.random() < 0.25:
            t["disambiguation_label"] = 0
    return d


def to_public_teststd(dialog: dict, rng: random.Random) -> dict:
    """Truncate at a random round K; keep only what the public test-std files keep."""
    turns = dialog["dialogue"]
    k = rng.randint(1, len(turns) - 1)
    out = []
    for t in turns[: k + 1]:
        if t["turn_idx"] < k:
            row = {"turn_idx": t["turn_idx"], "system_transcript": t["system_transcript"]}
            row["system_transcript_annotated"] = {
                "act_attributes": {"objects": t["system_transcript_annotated"]["act_attributes"]["objects"]}
            }
        else:
            row = {"turn_idx": t["turn_idx"], "system_transcript_annotated": t["system_transcript_annotated"]}
        row["transcript"] = t["transcript"]
        out.append(row)
    return {"dialogue": out, "dialogue_idx": dialog["dialogue_idx"], "domain": dialog["domain"], "scene_ids": dialog["scene_ids"]}


def _strip_private(dialog: dict) -> dict:
    for t in dialog["dialogue"]:
        t.pop("_resolved", None)
    return dialog


def file_header(flavour: str, split: str) -> dict:
    if split == "teststd":
        if flavour == "2.1":
            return {"split": "test", "year": "2022", "domain": "fashion/furniture", "version": "simmc_2.1_dstc11"}
        return {"split": "test_for_challenge", "year": 2021, "domain": "fashion/furniture", "version": "simmc_2_dstc10"}
    return {"split": split, "year": 2021, "domain": "fashion/furniture", "version": "simmc_2_dstc10"}


def dialog_file_path(out: str, flavour: str, split: str) -> str:
    suffix = "teststd_public" if split == "teststd" else split
    if flavour == "2.1":
        return os.path.join(out, "data", f"simmc2.1_dials_dstc11_{suffix}.json")
    return os.path.join(out, "dstc10", "data", f"simmc2_dials_dstc10_{suffix}.json")


# -- expected counts -----------------------------------------------------------------------
def _objects(ann: dict | None) -> list[int]:
    return list(dict.fromkeys(((ann or {}).get("act_attributes") or {}).get("objects") or []))


def count_dialog(counts: dict, dialog: dict, in_force: dict[int, Scene], usable: bool) -> None:
    """Add what a build should report for one rendered dialog (samples dead when not usable)."""
    counts["dialogs"] += 1
    counts["turns"] += 2 * len(dialog["dialogue"])
    for t in dialog["dialogue"]:
        scene = in_force[max(k for k in in_force if k <= t["turn_idx"])]
        if "transcript_annotated" in t:
            counts["states"] += 1
        for side, key in (("user", "transcript_annotated"), ("system", "system_transcript_annotated")):
            objs = _objects(t.get(key))
            if not objs:
                continue
            if not usable:
                counts[f"dead_samples_{side}"] += 1
                continue
            counts[f"samples_{side}"] += 1
            counts[f"positives_{side}"] += len(objs)
            counts[f"negatives_{side}"] += len(scene.objects) - len(objs)


def _new_counts() -> dict:
    keys = ["dialogs", "turns", "states", "dead_dialogs"] + [
        f"{k}_{s}" for k in ("samples", "positives", "negatives", "dead_samples") for s in ("user", "system")
    ]
    return dict.fromkeys(keys, 0)


def generate(cfg: GeneratorConfig) -> dict:
    """Write the release; returns counts (GENERATED.json has them per flavour and split)."""
    if cfg.flavour not in ("both", "2.0", "2.1"):
        raise ValueError(f"flavour must be both, 2.0 or 2.1, got {cfg.flavour!r}")
    flavours = ("2.0", "2.1") if cfg.flavour == "both" else (cfg.flavour,)
    rng = random.Random(cfg.seed)
    n_scenes = cfg.scenes or max(4, cfg.dialogs // 4)
    prefabs = make_prefabs(rng, max(30, cfg.objects * 3))
    scenes = make_scenes(rng, cfg, prefabs, n_scenes)
    data = os.path.join(cfg.out, "data")
    fashion = {k: v for k, v in prefabs.items() if "assetType" in v}
    _write(os.path.join(data, "fashion_prefab_metadata_all.json"), json.dumps(fashion, indent=4))
    _write(
        os.path.join(data, "furniture_prefab_metadata_all.json"),
        json.dumps({k: v for k, v in prefabs.items() if k not in fashion}, indent=4),
    )
    drawn: set[str] = set()
    for s in scenes:
        _write(os.path.join(data, "public", f"{s.name}_scene.json"), scene_json(s))
        if s.shot not in drawn:
            drawn.add(s.shot)
            _write(os.path.join(data, "images", f"{s.shot}.png"), draw_screenshot(rng, s, prefabs, cfg.width, cfg.height))
    by_domain = {d: [s for s in scenes if s.domain == d] for d in ("fashion", "furniture")}
    files: dict[tuple[str, str], list[dict]] = {(f, sp): [] for f in flavours for sp in PUBLISHED_SPLITS}
    counts = {f: {sp: _new_counts() for sp in PUBLISHED_SPLITS} for f in flavours}
    for i in range(cfg.dialogs):
        split = SPLIT_ORDER[i % len(SPLIT_ORDER)]
        dialog, in_force = make_dialog(rng, 1000 + i, by_domain, prefabs, cfg.width)
        _emit(files, counts, flavours, split, dialog, in_force, rng, usable=True)
    bad = _add_bad(cfg, rng, files, counts, flavours, by_domain, prefabs, data)
    for (flavour, split), dialogs in files.items():
        doc = {"dialogue_data": dialogs, **file_header(flavour, split)}
        text = json.dumps(doc, indent=4) if (flavour, split) == ("2.1", "teststd") else json.dumps(doc)
        _write(dialog_file_path(cfg.out, flavour, split), text)
    n_objects = sum(len(s.objects) for s in scenes)
    summary = {
        "scenes": len(scenes),
        "screenshots": len(drawn),
        "products": n_objects + bad["extra_products"],
        "prefabs": len(prefabs),
        "dialogs": cfg.dialogs,
    }
    totals = {f: {k: sum(c[k] for c in counts[f].values()) for k in _new_counts()} for f in flavours}
    result = {**summary, "bad": bad, "by_flavour": totals, "by_flavour_split": counts}
    _write(
        os.path.join(cfg.out, "GENERATED.json"),
        json.dumps({"generator": "mmdial.simmc", "config": cfg.__dict__, "counts": result}, indent=2, sort_keys=True),
    )
    return result


def _emit(files, counts, flavours, split, dialog, in_force, rng, usable: bool) -> None:
    v20 = to_v20(dialog, rng)
    for flavour in flavours:
        d = copy.deepcopy(dialog if flavour == "2.1" else v20)
        if split == "teststd":
            d = to_public_teststd(d, random.Random(dialog["dialogue_idx"]))
        files[(flavour, split)].append(_strip_private(d))
        count_dialog(counts[flavour][split], d, in_force, usable)


def _add_bad(cfg, rng, files, counts, flavours, by_domain, prefabs, data) -> dict:
    """Bad records in the train files (and their scenes): what each kind should dead-letter."""
    bad = {k: 0 for k in BAD_KINDS}
    bad["extra_products"] = 0
    for j in range(cfg.bad):
        kind = BAD_KINDS[j % len(BAD_KINDS)]
        bad[kind] += 1
        idx = 900_000 + j
        if kind in ("wrong_type", "wrong_turn_type"):
            dialog, _ = make_dialog(rng, idx, by_domain, prefabs, cfg.width)
            if kind == "wrong_type":
                dialog["dialogue"] = "not a list of turns"
            else:
                dialog["dialogue"][0]["turn_idx"] = "0"
            for f in flavours:
                files[(f, "train")].append(copy.deepcopy(dialog))
                counts[f]["train"]["dead_dialogs"] += 1
            continue
        base = f"cloth_store_bad_{kind}_{j}"
        k = max(2, cfg.objects // 2)
        boxes = _layout(rng, k, cfg.width, cfg.height)
        fashion = [p for p, m in prefabs.items() if "assetType" in m]
        objs = [
            {"index": i, "unique_id": i, "prefab_path": rng.choice(fashion), "bbox": boxes[i], "position": [0.0, 0.0, 0.0]}
            for i in range(k)
        ]
        scene = Scene(base, base, "fashion", objs, refer_as=base)
        if kind == "missing_prefab":
            objs[0]["prefab_path"] = f"WomensCollection/Prefabs/NotInMetadata_{j}"
            bad["extra_products"] += k - 1
        if kind != "missing_scene":
            _write(os.path.join(data, "public", f"{base}_scene.json"), scene_json(scene))
        if kind != "missing_screenshot" and kind != "missing_scene":
            _write(os.path.join(data, "images", f"{base}.png"), draw_screenshot(rng, scene, prefabs, cfg.width, cfg.height))
        dialog, in_force = make_dialog(rng, idx, {"fashion": [scene], "furniture": []}, prefabs, cfg.width, scene_override=scene)
        _emit(files, counts, flavours, "train", dialog, in_force, rng, usable=False)
    return bad
