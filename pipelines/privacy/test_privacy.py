"""Privacy masking: recognisers, geometry, policies, quarantine, audit, manual boxes (fake engine),
and `mmdial mask` / `--mask-images` end to end, with the real rapidocr on a small generated slice."""

from __future__ import annotations

import io as _io
import json
import math
import os

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pipelines.privacy import manual
from pipelines.privacy.codec import decode
from pipelines.privacy.engines import FakeEngine, TextLine, pixel_key
from pipelines.privacy.masker import plan_masks, span_quad
from pipelines.privacy.policy import Policy, load_config
from pipelines.privacy.recognizers import RecognizerSet, VocabRecognizer, load_kb_brands
from pipelines.privacy.stage import PrivacyMasker

RUNNER = CliRunner()


def cli(*args):
    from pipelines.cli.main import app

    res = RUNNER.invoke(app, list(args), catch_exceptions=False)
    return res


def box(x0, y0, x1, y1):
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def found(text: str, rs: RecognizerSet | None = None) -> list[tuple[str, str]]:
    rs = rs or RecognizerSet.build()
    return sorted({(text[m.start : m.end], m.entity) for m in rs.recognise([TextLine(text, box(0, 0, 100, 20), 1.0)])})


def png(arr: np.ndarray) -> bytes:
    from PIL import Image

    buf = _io.BytesIO()
    Image.fromarray(arr[:, :, ::-1]).save(buf, "PNG")
    return buf.getvalue()


def canvas(w=200, h=60, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(100, 200, (h, w, 3), dtype=np.uint8)


def masker_with(script: dict | None = None, overrides: list[str] | None = None, engine: FakeEngine | None = None) -> PrivacyMasker:
    cfg = load_config(overrides=["engine.name=fake", *(overrides or [])])
    eng = engine or FakeEngine(script=script or {})
    return PrivacyMasker(cfg, engine_factory=lambda: eng)


# -- recognisers -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("手机号码13812345678", [("13812345678", "phone")]),  # no word boundary between 码 and 1
        ("收货人张伟 手机：138-1234-5678", [("138-1234-5678", "phone"), ("张伟", "person_name")]),
        ("订单号:2023061512345678", [("2023061512345678", "order_number")]),
        ("运单号 SF1234567890123", [("SF1234567890123", "order_number")]),
        ("收货地址：广东省深圳市南山区科技园路18号3栋502室", [("广东省深圳市南山区科技园路18号3栋502室", "address")]),
        ("小米官方旗舰店", [("小米官方旗舰店", "store_name")]),
        ("Name: John Smith", [("John Smith", "person_name")]),
        ("Phone +86 138 1234 5678", [("+86 138 1234 5678", "phone")]),
        ("mail: a.b@example.com", [("a.b@example.com", "email")]),
        ("联系电话 010-62345678", [("010-62345678", "phone")]),
        ("135****8888", [("135****8888", "phone")]),
        ("收赁人：吴美强", [("吴美强", "person_name")]),  # a misread label still counts (colon required)
    ],
)
def test_recognisers_find_pii_in_cjk_and_english(text, expected):
    got = found(text)
    for value, entity in expected:
        assert (value, entity) in got, got


@pytest.mark.parametrize(
    "text", ["这个店铺的东西不错", "市场价格 ¥199", "容量500ml 2024款", "in store now", "超市区域", "无线蓝牙耳机", "实付款 ¥489.00"]
)
def test_recognisers_leave_benign_text(text):
    assert found(text) == []


def test_id_card_and_model_number():
    assert ("110105199003071234", "id_card") in found("身份证 110105199003071234")
    assert ("XR-5000", "model_number") in found("型号：XR-5000")


def test_vocabulary_from_kb(tmp_path):
    kb = tmp_path / "kb.tsv"
    kb.write_text("sku1\t品牌\t华为（HUAWEI）\nsku1\t颜色\t黑色\nsku2\tbrand\tSony\n", encoding="utf-8")
    brands = load_kb_brands(str(kb))
    assert brands == ["HUAWEI", "Sony", "华为"]
    v = VocabRecognizer("vocab_brand", "brand", brands)
    text = "华为手机 HUAWEI Mate, not SonyX"
    hits = [text[m.start : m.end] for m in v.find(text)]
    assert hits == ["华为", "HUAWEI"]  # `SonyX` is another word
    rs = RecognizerSet.build(vocabularies={"vocab_brand": {"entity": "brand", "kb": [str(kb)]}})
    assert ("Sony", "brand") in found("索尼 Sony 耳机", rs)


def test_label_only_line_masks_its_neighbour():
    lines = [
        TextLine("收货人", box(10, 10, 70, 30), 1.0),
        TextLine("张伟", box(90, 10, 130, 30), 1.0),
        TextLine("无线耳机", box(10, 60, 90, 80), 1.0),
    ]
    ms = RecognizerSet.build().recognise(lines)
    assert (1, "person_name", True) in [(m.line, m.entity, m.whole_line) for m in ms]  # the neighbour, whole
    assert {(m.line, m.entity) for m in ms} == {(1, "person_name")}  # (the name model agrees on 张伟), the product stays


# -- geometry --------------------------------------------------------------------------------
def test_estimated_span_covers_only_the_matched_characters():
    # weights: 2 CJK x 1.0 + 11 digits x 0.55 = 8.05 units over 161 px -> 20 px per CJK char
    line = TextLine("电话13812345678", box(0, 0, 161, 20), 1.0)
    quad, how = span_quad(line, 2, 13, pad_ratio=0.0, char_margin=0.0)
    assert how == "estimated"
    assert quad[:, 0].min() == pytest.approx(40, abs=0.5) and quad[:, 0].max() == pytest.approx(161, abs=0.5)
    assert quad[:, 1].min() == 0 and quad[:, 1].max() == 20
    padded, _ = span_quad(line, 2, 13, pad_ratio=0.2, char_margin=0.5)
    assert 25 < padded[:, 0].min() < 40 and padded[:, 1].min() == pytest.approx(-4)  # margins, but 电 stays visible


def test_span_uses_engine_character_boxes():
    chars = tuple(box(10 * i, 0, 10 * i + 9, 20) for i in range(6))
    line = TextLine("ab cdef", box(0, 0, 60, 20), 1.0, chars)  # 6 non-space characters, 6 boxes
    quad, how = span_quad(line, 3, 5, pad_ratio=0.0, char_margin=0.0)  # "cd" = char boxes 2 and 3
    assert how == "chars"
    assert quad[:, 0].min() == 20 and quad[:, 0].max() == 39


def test_rotated_line_span_follows_the_line():
    a = math.radians(30)
    u, v = np.array([math.cos(a), math.sin(a)]), np.array([-math.sin(a), math.cos(a)])
    o = np.array([50.0, 50.0])
    poly = tuple(tuple(p) for p in (o, o + 100 * u, o + 100 * u + 20 * v, o + 20 * v))
    line = TextLine("x" * 10, poly, 1.0)
    quad, _ = span_quad(line, 5, 10, pad_ratio=0.0, char_margin=0.0)
    centre = quad.mean(axis=0)
    expected = o + 75 * u + 10 * v
    assert np.allclose(centre, expected, atol=1.0)


# -- masking, policy, audit ------------------------------------------------------------------
def scripted_image():
    arr = canvas()
    key = pixel_key(arr)
    script = {
        key: [
            {"text": "电话13812345678", "polygon": [[10, 10], [171, 10], [171, 30], [10, 30]], "score": 0.99},
            {"text": "无线蓝牙耳机", "polygon": [[10, 35], [130, 35], [130, 55], [10, 55]], "score": 0.99},
        ]
    }
    return arr, script


def test_mask_fills_solid_inside_span_and_keeps_the_rest_and_audits():
    arr, script = scripted_image()
    data = png(arr)
    out = masker_with(script, ["masking.fill=[0,0,0]"]).mask({"image_id": "a" * 64, "source_key": "x.png", "data": data, "format": "png"})
    assert out.status == "masked" and out.candidate is None
    img = decode(out.image["data"], 10**8).bgr
    x, y, w, h = out.masks[0].box
    assert (img[y : y + h, x : x + w] == 0).all()  # solid fill, no blur
    assert np.array_equal(img[36:55, 0:8], arr[36:55, 0:8])  # outside every mask: untouched (PNG is lossless)
    assert np.array_equal(img[40:50, 10:130], arr[40:50, 10:130])  # the benign line stays
    assert x > 20  # the label 电话 is not masked whole
    audit = json.loads(out.image["privacy_audit"])
    assert audit["engine"]["name"] == "fake" and audit["policy_sha256"] == masker_with(script, ["masking.fill=[0,0,0]"]).policy.sha256
    assert audit["policy"]["policy"] == "pii" and audit["policy"]["thresholds"]["uncertain_score"] == 0.8
    assert audit["masks"][0]["entities"] == ["order_number", "phone"] and audit["masks"][0]["box"] == [x, y, w, h]
    assert audit["input_sha256"] != audit["output_sha256"]
    assert "13812345678" not in out.image["privacy_audit"]  # the audit never holds the hidden text
    assert out.image["image_id"] == "a" * 64  # ids stay: turns keep resolving


def test_background_fill_is_one_solid_colour_of_the_surroundings():
    arr = np.full((60, 200, 3), 240, np.uint8)
    arr[15:25, 40:160] = 10  # "text" in the middle of a light background
    key = pixel_key(arr)
    script = {key: [{"text": "13812345678", "polygon": [[40, 12], [160, 12], [160, 28], [40, 28]], "score": 0.99}]}
    out = masker_with(script).mask({"image_id": "a" * 64, "source_key": "x.png", "data": png(arr), "format": "png"})
    img = decode(out.image["data"], 10**8).bgr
    x, y, w, h = out.masks[0].box
    inner = img[y + 1 : y + h - 1, x + 1 : x + w - 1]
    assert (inner == 240).all()  # no ink left, one colour: the background's
    assert json.loads(out.image["privacy_audit"])["policy"]["masking"]["fill"] == "background"


def test_all_text_policy_and_category_override():
    arr, script = scripted_image()
    data = png(arr)
    m = masker_with(script, ["policy=all-text"])
    assert len(m.mask({"image_id": "b" * 64, "source_key": "x", "data": data}).masks) == 2
    m = masker_with(script)
    assert len(m.mask({"image_id": "b" * 64, "source_key": "x", "data": data}).masks) == 1
    out = m.mask({"image_id": "b" * 64, "source_key": "x", "data": data}, category="screenshot_of_LOGISTICS-order")
    assert len(out.masks) == 2 and json.loads(out.image["privacy_audit"])["policy"]["category_override"] is True


def test_uncertain_digit_lines_are_masked_whole():
    eff = Policy(load_config()).for_category(None)
    lines = [TextLine("I38l23456", box(0, 0, 90, 20), 0.5), TextLine("hello 1234", box(0, 30, 90, 50), 0.99)]
    masks = plan_masks(lines, [], eff)
    assert [(m.line, m.entities, m.geometry) for m in masks] == [(0, ("uncertain_digits",), "line")]


def test_policy_config_validation_and_overrides():
    cfg = load_config(overrides=["masking.pad_ratio=0.3", "category_overrides={}"])
    assert cfg["masking"]["pad_ratio"] == 0.3 and cfg["category_overrides"] == {}
    with pytest.raises(ValueError):
        load_config(overrides=["policy=blur"])
    with pytest.raises(ValueError):
        load_config(overrides=["masking.fill=[0,0]"])


def test_flat_image_takes_the_fast_path_without_ocr():
    eng = FakeEngine()
    m = masker_with(engine=eng)
    data = png(np.full((40, 40, 3), 200, np.uint8))
    out = m.mask({"image_id": "c" * 64, "source_key": "flat.png", "data": data, "format": "png"})
    assert eng.calls == 0 and out.status == "unchecked"
    assert out.image["data"] == data  # passed through byte for byte
    assert out.candidate["reason"] == "no_auto_mask" and json.loads(out.image["privacy_audit"])["fast_path"] == "flat_image"


# -- quarantine (fail closed) ----------------------------------------------------------------
def test_quarantine_reasons_and_originals_never_published():
    arr = canvas(seed=1)
    fail_key = pixel_key(arr)
    m = masker_with(engine=FakeEngine(fail_keys=(fail_key,)))
    cases = {
        "undecodable": {"data": b"\xff\xd8 not a jpeg"},
        "ocr_error": {"data": png(arr)},
        "missing_bytes": {"data": None, "uri": "/nonexistent/x.jpg"},
    }
    for code, row in cases.items():
        out = m.mask({"image_id": "d" * 64, "source_key": f"{code}.jpg", **row})
        assert out.status == "quarantined" and out.image is None
        assert out.quarantine["reason_code"] == code and out.quarantine["reason"]
        assert out.candidate["reason"] == "quarantined"
        assert "data" not in out.quarantine
    big = masker_with(overrides=["limits.max_pixels=100"]).mask({"image_id": "e" * 64, "source_key": "big.png", "data": png(canvas())})
    assert big.quarantine["reason_code"] == "too_large"


def test_ocr_timeout_quarantines_and_the_next_image_still_works():
    hang = canvas(seed=2)
    engines = []

    def factory():
        engines.append(FakeEngine(hang_keys=(pixel_key(hang),)))
        return engines[-1]

    m = PrivacyMasker(load_config(overrides=["engine.name=fake", "limits.timeout_s=0.3"]), engine_factory=factory)
    try:
        out = m.mask({"image_id": "f" * 64, "source_key": "hang.png", "data": png(hang)})
        assert out.quarantine["reason_code"] == "ocr_timeout"
        ok = m.mask({"image_id": "0" * 64, "source_key": "ok.png", "data": png(canvas(seed=3))})
        assert ok.status == "unchecked" and len(engines) == 2
    finally:
        for e in engines:
            e.release()
        m.close()


# -- manual boxes ------------------------------------------------------------------------------
def test_manual_line_validation_and_latest_version():
    good = {"image_id": "a" * 64, "status": "masked", "boxes": [{"x": 1, "y": 2, "w": 3, "h": 4, "label": "phone"}]}
    assert manual.parse_line(json.dumps(good)).boxes == ((1, 2, 3, 4, "phone"),)
    for bad in (
        {**good, "image_id": "xyz"},
        {**good, "status": "maybe"},
        {**good, "boxes": []},
        {**good, "status": "clean"},
        {**good, "boxes": [{"x": 1, "y": 2, "w": 0, "h": 4}]},
        [1, 2],
    ):
        with pytest.raises(ValueError):
            manual.parse_line(json.dumps(bad))
    d1 = manual.parse_line(json.dumps({**good, "version": 2}))
    d2 = manual.parse_line(json.dumps({"image_id": "a" * 64, "status": "clean", "version": 1}))
    assert manual.latest([d1, d2])["a" * 64] is d1


def test_manual_boxes_are_filled_and_audited():
    arr = canvas(w=100, h=50)
    row = {
        "image_id": "a" * 64,
        "source_key": "x.png",
        "data": png(arr),
        "format": "png",
        "privacy_status": "unchecked",
        "privacy_audit": json.dumps({"masks": []}),
    }
    d = manual.parse_line(
        json.dumps(
            {"image_id": "a" * 64, "status": "masked", "boxes": [{"x": 10, "y": 5, "w": 20, "h": 10, "label": "name"}], "annotator": "ann1"}
        )
    )
    out = manual.apply(row, d)
    img = decode(out["data"], 10**8).bgr
    assert (img[5:15, 10:30] == 0).all() and np.array_equal(img[20:, :], arr[20:, :])
    assert out["privacy_status"] == "manual_masked"
    assert json.loads(out["privacy_audit"])["manual"]["annotator"] == "ann1"
    clean = manual.apply(row, manual.parse_line(json.dumps({"image_id": "a" * 64, "status": "clean"})))
    assert clean["privacy_status"] == "clean" and clean["data"] == row["data"]


# -- builds ------------------------------------------------------------------------------------
def read(out, table):
    from pipelines.core.parquet import read_table

    return read_table(str(out), table).to_pylist()


@pytest.mark.slow
def test_mask_and_mask_manual_builds_with_the_fake_engine(tmp_path):
    arr, script = scripted_image()
    plain = canvas(seed=5)
    script_path = tmp_path / "script.json"
    script_path.write_text(json.dumps(script))
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    (src / "pii.png").write_bytes(png(arr))
    (src / "sub" / "plain.png").write_bytes(png(plain))
    (src / "sub" / "broken.jpg").write_bytes(b"\xff\xd8 broken")
    out = tmp_path / "out"
    res = cli(
        "mask",
        "--in",
        str(src),
        "--out",
        str(out),
        "--set",
        "engine.name=fake",
        "--set",
        f"engine.script={script_path}",
        "--workers",
        "1",
        "--quiet",
    )
    assert res.exit_code == 0, res.output
    images = {r["source_key"]: r for r in read(out, "images")}
    assert set(images) == {"pii.png", "sub/plain.png"}
    assert images["pii.png"]["privacy_status"] == "masked" and images["sub/plain.png"]["privacy_status"] == "unchecked"
    assert all(r["privacy_audit"] for r in images.values())
    quarantine = read(out, "privacy_quarantine")
    assert [(q["source_key"], q["reason_code"]) for q in quarantine] == [("sub/broken.jpg", "undecodable")]
    cands = {c["source_key"]: c["reason"] for c in read(out, "privacy_candidates")}
    assert cands == {"sub/plain.png": "no_auto_mask", "sub/broken.jpg": "quarantined"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts_reconcile"] and manifest["stages"]["mask"] == {"in": 3, "out": 3, "dead": 0, "filtered": 0}

    # the same images as a Parquet images table (unchecked rows) go through the same build
    from schemas import get

    rows = [{**images["sub/plain.png"], "privacy_status": "unchecked", "privacy_audit": None, "dataset": "other"}]
    table = get("images").to_arrow(rows)
    pq.write_table(table, tmp_path / "images.parquet")
    out2 = tmp_path / "out2"
    assert (
        cli(
            "mask", "--in", str(tmp_path / "images.parquet"), "--out", str(out2), "--set", "engine.name=fake", "--workers", "1", "--quiet"
        ).exit_code
        == 0
    )
    again = read(out2, "images")
    assert [(r["dataset"], r["privacy_status"]) for r in again] == [("other", "unchecked")]

    # manual decisions: a box on the unchecked image, one for the quarantined image, one unknown, one malformed
    plain_id = images["sub/plain.png"]["image_id"]
    broken_id = quarantine[0]["image_id"]
    decisions = [
        {"image_id": plain_id, "status": "masked", "boxes": [{"x": 0, "y": 0, "w": 50, "h": 20, "label": "name"}]},
        {"image_id": broken_id, "status": "clean"},
        {"image_id": "9" * 64, "status": "clean"},
        {"image_id": plain_id, "status": "masked"},
    ]
    mpath = tmp_path / "privacy_manual.jsonl"
    mpath.write_text("".join(json.dumps(d) + "\n" for d in decisions))
    assert not any(r["uri"].startswith("/") for r in [*images.values(), *quarantine]), "published paths are relative to --in"
    final = tmp_path / "final"
    args = ["--out", str(final), "--workers", "1", "--quiet", "--max-dead-ratio", "1"]
    res = cli("mask-manual", "--in", str(out), "--manual", str(mpath), *args)
    assert res.exit_code == 0, res.output
    q = read(final, "privacy_quarantine")  # without the originals' folder nothing is released, and the reason says why
    assert len(q) == 1 and "--images" in q[0]["reason"]
    res = cli("mask-manual", "--in", str(out), "--manual", str(mpath), "--images", str(src), *args)
    assert res.exit_code == 0, res.output
    fin = {r["source_key"]: r for r in read(final, "images")}
    assert fin["sub/plain.png"]["privacy_status"] == "manual_masked" and fin["pii.png"]["privacy_status"] == "masked"
    assert (decode(fin["sub/plain.png"]["data"], 10**8).bgr[0:20, 0:50] == 0).all()
    q = read(final, "privacy_quarantine")
    assert (
        len(q) == 1 and "manual release failed" in q[0]["reason"] and "--images" not in q[0]["reason"]
    )  # undecodable originals stay held back
    dead = read(final, "dead_letters")
    assert sorted(d["stage"] for d in dead) == ["manual.join", "manual.parse"]
    assert [(c["source_key"], c["reason"]) for c in read(final, "privacy_candidates")] == [("sub/broken.jpg", "quarantined")]

    jsonl = tmp_path / "cands.jsonl"
    assert cli("mask-candidates", "--in", str(out), "--out", str(jsonl)).exit_code == 0
    lines = [json.loads(x) for x in jsonl.read_text().splitlines()]
    assert {x["source_key"] for x in lines} == {"sub/plain.png", "sub/broken.jpg"} and all({"image_id", "uri"} <= set(x) for x in lines)


def test_mmd_build_with_mask_images(tmp_path):
    from pipelines.mmd.generator import GeneratorConfig, generate

    raw = tmp_path / "raw"
    generate(GeneratorConfig(out=str(raw), dialogs=6, seed=3))
    arr, script = scripted_image()
    (raw / "images" / "screenshot.png").write_bytes(png(arr))
    script_path = tmp_path / "script.json"
    script_path.write_text(json.dumps(script))
    out = tmp_path / "mmd"
    res = cli(
        "build",
        "mmd",
        "--raw",
        str(raw),
        "--out",
        str(out),
        "--mask-images",
        "--mask-set",
        "engine.name=fake",
        "--mask-set",
        f"engine.script={script_path}",
        "--workers",
        "1",
        "--quiet",
    )
    assert res.exit_code == 0, res.output
    images = read(out, "images")
    by_key = {r["source_key"]: r for r in images}
    assert by_key["screenshot.png"]["privacy_status"] == "masked"
    assert all(r["privacy_audit"] for r in images) and {r["privacy_status"] for r in images} == {"masked", "unchecked"}
    ids = {r["image_id"] for r in images}
    turn_ids = {i for t in read(out, "turns") for i in (t["image_ids"] or [])}
    assert turn_ids and turn_ids <= ids  # masking keeps the ids turns refer to
    assert len(read(out, "privacy_candidates")) == len(images) - 1
    assert json.loads((out / "manifest.json").read_text())["build_config"]["privacy"]["policy"] == "pii"
    res = cli("build", "mmd", "--raw", str(raw), "--out", str(tmp_path / "x"), "--mask-images", "--no-image-bytes", "--quiet")
    assert res.exit_code == 2


# -- the real engine on a small generated slice ------------------------------------------------
needs_font = pytest.mark.skipif(
    not os.path.exists("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    reason="fonts-noto-cjk not installed (make test installs it)",
)


@needs_font
@pytest.mark.slow
def test_mmdial_mask_with_rapidocr_leaves_no_readable_pii(tmp_path):
    from pipelines.privacy import evaluate as ev
    from pipelines.privacy import generator

    samples = [
        generator.make_sample(__import__("random").Random(11 + i), generator._Fonts(), i, kind, lang, scale=0.8)
        for i, (kind, lang) in enumerate([("order", "zh"), ("chat", "en"), ("label_photo", "zh"), ("product_photo", "en")])
    ]
    img_dir = generator.write(samples, str(tmp_path / "gen"))
    out = tmp_path / "out"
    res = cli("mask", "--in", img_dir, "--out", str(out), "--workers", "1", "--quiet", "--set", "category_overrides={}")
    assert res.exit_code == 0, res.output
    rows = {r["source_key"]: r for r in read(out, "images")}
    assert set(rows) == {s.name for s in samples}
    from pipelines.privacy.engines import RapidOCREngine

    engine = RapidOCREngine()
    planted = detected = residue = benign_before = benign_after = 0
    for s in samples:
        row = rows[s.name]
        audit = json.loads(row["privacy_audit"])
        assert audit["engine"]["name"] == "rapidocr" and audit["engine"]["models"]["det"]["sha256"]
        img = decode(row["data"], 10**8).bgr
        polys = [np.array(m["polygon"]) for m in audit["masks"]]
        bm = ev.box_metrics(s.planted, polys, img.shape[1], img.shape[0])
        planted += bm["pii_boxes"]
        detected += bm["detected"]
        again = [ln.text for ln in engine.ocr(img)]
        residue += len(ev.residue(s.planted, again)["readable"])
        original = [ln.text for ln in engine.ocr(decode(s.data, 10**8).bgr)]
        b = ev.benign(s.planted, original, again)
        benign_before += b["readable_before"]
        benign_after += b["readable_after"]
    assert planted >= 10
    assert residue == 0  # no planted PII string readable after masking
    assert detected / planted >= 0.9
    assert benign_before and benign_after / benign_before >= 0.7
    assert rows[samples[-1].name]["privacy_status"] == "unchecked"  # the product photo: a manual-check candidate


def test_engine_construction_errors(tmp_path):
    from pipelines.privacy.engines import EngineUnavailable, PaddleOCREngine, make_engine

    with pytest.raises(ValueError, match="unknown engine option"):
        make_engine({"name": "fake", "thredas": 2})
    with pytest.raises(ValueError, match="unknown OCR engine"):
        make_engine({"name": "tesseract"})
    with pytest.raises(EngineUnavailable, match="det_model_dir"):
        PaddleOCREngine(det_model_dir=str(tmp_path / "missing"), rec_model_dir=str(tmp_path))
    assert make_engine({"name": "fake", "threads": 4}).name == "fake"  # other engines' options are ignored
