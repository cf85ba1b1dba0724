"""Dialogue text de-identification: the shared registry applied to words, typed placeholders per
dialogue, template markers and product information kept, `mmdial deidentify`, the build stage
(`--deidentify-text`, on by default for JDDC), and `annotate push` refusing raw text."""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from benchmarks.bench_text_privacy import evaluate, fragment_left
from benchmarks.text_privacy_tune import generate
from pipelines.privacy.engines import TextLine
from pipelines.privacy.recognizers import RecognizerSet, builtin_names
from pipelines.privacy.text import Dialogue, TextDeidentifier

RUNNER = CliRunner()


@pytest.fixture(scope="module")
def deid() -> TextDeidentifier:
    d = TextDeidentifier()
    d.setup()
    return d


def cli(*args):
    from pipelines.cli.main import app

    return RUNNER.invoke(app, list(args), catch_exceptions=False)


# one case per text-only recogniser: a line and the span it alone must find
TEXT_CASES = {
    "account_cue": ("我的淘宝账号tb81234567积分没到", "tb81234567"),
    "brand_keep": ("苏泊尔的电饭煲", "苏泊尔"),
    "social_handle": ("DM me on Instagram, I'm @jane.doe_88 there", "@jane.doe_88"),
}


def test_every_text_only_recogniser_has_a_case():
    assert set(builtin_names("text")) - set(builtin_names("image")) == set(TEXT_CASES)
    assert {"store_name_cn", "store_name_en", "model_number"} <= set(builtin_names("image")) - set(builtin_names("text"))


@pytest.mark.parametrize("name", sorted(TEXT_CASES))
def test_text_recogniser_alone_finds_its_case(name):
    text, span = TEXT_CASES[name]
    rs = RecognizerSet.build([name], medium="text")
    hits = {text[m.start : m.end] for m in rs.recognise([TextLine(text, ((0, 0), (1, 0), (1, 1), (0, 1)), 1.0)])}
    assert span in hits, hits


def test_placeholders_are_typed_and_consistent_within_a_dialogue(deid):
    d = Dialogue()
    a, reps = deid.deidentify("我的手机号是19589610114，地址是杭州市西湖区解放路152号2097室", d)
    b, _ = deid.deidentify("再确认一下 195-8961-0114，备用 13700001111", d)
    assert a == "我的手机号是[PHONE_1]，地址是[ADDRESS_1]"
    assert b == "再确认一下 [PHONE_1]，备用 [PHONE_2]"  # the same number in other spacing is the same placeholder
    other, _ = deid.deidentify("备用 13700001111", Dialogue())
    assert other == "备用 [PHONE_1]"  # numbering starts again in another dialogue
    rec = [r.record() for r in reps]
    assert [r["type"] for r in rec] == ["PHONE", "ADDRESS"] and all("19589610114" not in json.dumps(r) for r in rec)


@pytest.mark.parametrize(
    "text, gone, typ",
    [
        ("订单号605095410827还没发货", "605095410827", "ORDER_ID"),
        ("运单 SF1234567890123 一直没更新", "SF1234567890123", "TRACKING_ID"),
        ("身份证 11010519491231002X 认证失败", "11010519491231002X", "ID_CARD"),
        ("退到 6222 0212 3456 7894 120 这张卡", "6222 0212 3456 7894 120", "BANK_CARD"),
        ("mail me at k.okafor@example.org thanks", "k.okafor@example.org", "EMAIL"),
        ("车牌粤B·D1234的师傅到了", "粤B·D1234", "PLATE"),
        ("My name is Hannah Brennan", "Hannah Brennan", "PERSON"),
        ("ship it to 42 Mill Road, Bristol BS1 5TR", "42 Mill Road, Bristol BS1 5TR", "ADDRESS"),
        ("包裹由车晓东代收", "车晓东", "PERSON"),
    ],
)
def test_personal_values_are_replaced(deid, text, gone, typ):
    out, reps = deid.deidentify(text)
    assert not fragment_left(gone, out), out
    assert typ in {r.type for r in reps}


@pytest.mark.parametrize(
    "text, kept",
    [
        ("华为Mate 60 Pro 现在¥5999，2024-06-18 前发货，要2台", ["华为", "Mate 60 Pro", "¥5999", "2024-06-18", "2台"]),
        ("型号XQB80-36SP，尺码175/92A，取件码3-2-1045", ["XQB80-36SP", "175/92A", "3-2-1045"]),
        ("周杰伦同款卫衣还有吗", ["周杰伦", "卫衣"]),
        ("Is this the jacket Taylor Swift wore? The Bose one is $349.99", ["Taylor Swift", "Bose", "$349.99"]),
        ("这个温度传感器坏了，时候不早了", ["温度传感器", "时候"]),
        ("型号：XQB80-36SP，取件码：5-3-2011，SKU：100012043978", ["XQB80-36SP", "5-3-2011", "100012043978"]),
        ("Model no.: WH-1000XM5, pickup code: 4-2-1188", ["WH-1000XM5", "4-2-1188"]),
    ],
)
def test_benign_look_alikes_are_kept(deid, text, kept):
    out, _ = deid.deidentify(text)
    for k in kept:
        assert k in out, out


def test_template_markers_pass_through(deid):
    text = "@12345 is like @678 [PH] [image] [数字x] #E-s[数字x] [PHONE_1] 13812345678"
    out, reps = deid.deidentify(text)
    assert out == "@12345 is like @678 [PH] [image] [数字x] #E-s[数字x] [PHONE_1] [PHONE_1]"
    bracketed, _ = deid.deidentify("[13812345678]")  # a bracket does not hide a number
    assert "13812345678" not in bracketed


def test_salted_hash_links_values_without_revealing_them():
    a = TextDeidentifier(salt="s1").deidentify("13812345678")[1][0]
    b = TextDeidentifier(salt="s1").deidentify("138 1234 5678")[1][0]
    c = TextDeidentifier(salt="s2").deidentify("13812345678")[1][0]
    assert a.hash == b.hash != c.hash and "13812345678" not in a.hash
    assert TextDeidentifier(salt=None).deidentify("13812345678")[1][0].hash is None or os.environ.get("MMDIAL_DEID_SALT")


def test_a_user_recogniser_file_extends_images_and_text(tmp_path):
    extra = tmp_path / "mine.yaml"
    extra.write_text(
        "recognizers:\n  - name: member_card\n    entity: account\n    kind: pattern\n    regex: 'VIP-[0-9]{6}'\n", encoding="utf-8"
    )
    out, reps = TextDeidentifier(files=[str(extra)]).deidentify("会员卡 VIP-123456 积分")
    assert out == "会员卡 [ACCOUNT_1] 积分" and reps[0].recognizers == ("member_card",)
    image_hits = RecognizerSet.build(files=[str(extra)]).recognise([TextLine("VIP-123456", ((0, 0), (1, 0), (1, 1), (0, 1)), 1.0)])
    assert "member_card" in {m.recognizer for m in image_hits}


def test_tuning_part_meets_the_targets(deid):
    """The tuning part (benchmarks/text_privacy_tune.py), two seeds: what tuning used; the held-out
    part is measured by benchmarks/bench_text_privacy.py, never here."""
    for seed in (11, 12):
        res = evaluate(generate(300, seed), deid)
        assert res["structured_recall"] >= 0.99, res["removed"]
        assert res["names_addresses_recall"] >= 0.95, res["removed"]
        assert res["benign_kept_all"] >= 0.95, res["benign_kept"]


def test_deidentify_command_jsonl_and_parquet(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(
        "\n".join(
            [
                json.dumps({"id": "a", "dialog_id": "d1", "text": "手机13812345678", "lang": "zh"}, ensure_ascii=False),
                json.dumps({"dialog_id": "d1", "text": "还是 138-1234-5678"}, ensure_ascii=False),
                "{broken",
                json.dumps({"id": "n", "text": 7}),
                json.dumps({"id": "e", "text": None}),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    res = cli("deidentify", "--in", str(src), "--field", "text", "--out", str(out))
    assert res.exit_code == 0 and "records_in=5 records_out=3 dead_letters=2" in res.output
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in rows] == ["手机[PHONE_1]", "还是 [PHONE_1]", None]
    assert rows[0]["lang"] == "zh" and rows[1]["id"] == "in.jsonl:2" and rows[0]["deidentified"]["replacements"][0]["type"] == "PHONE"
    assert "13812345678" not in out.read_text(encoding="utf-8")
    dead = [json.loads(x) for x in (tmp_path / "out.jsonl.dead_letters.jsonl").read_text().splitlines()]
    assert [d["locator"] for d in dead] == ["line 3", "line 4"]

    pq.write_table(pa.table({"dialog_id": ["x", "x"], "text": ["找张伟 13812345678", "13812345678"], "n": [1, 2]}), tmp_path / "in.parquet")
    res = cli("deidentify", "--in", str(tmp_path / "in.parquet"), "--field", "text", "--out", str(tmp_path / "out.parquet"))
    assert res.exit_code == 0, res.output
    t = pq.read_table(tmp_path / "out.parquet")
    assert t.column("text").to_pylist() == ["找[PERSON_1] [PHONE_1]", "[PHONE_1]"] and t.column("n").to_pylist() == [1, 2]
    assert t.schema.field("n").type == pa.int64() and "deidentified" in t.column_names
    bad = cli("deidentify", "--in", str(tmp_path / "in.parquet"), "--field", "nope", "--out", str(tmp_path / "x.parquet"))
    assert bad.exit_code == 2 and "no column 'nope'" in bad.output


@pytest.mark.slow
def test_jddc_build_deidentifies_text_by_default_and_push_refuses_raw_text(tmp_path):
    raw, on, off = tmp_path / "raw", tmp_path / "on", tmp_path / "off"
    assert cli("generate", "jddc", "--out", str(raw), "--sessions", "40", "--text-only", "--seed", "3").exit_code == 0
    assert cli("build", "jddc", "--raw", str(raw), "--out", str(on), "--quiet").exit_code == 0
    assert cli("build", "jddc", "--raw", str(raw), "--out", str(off), "--quiet", "--no-deidentify-text").exit_code == 0

    def texts(root):
        return [t for f in sorted((root / "turns").glob("*.parquet")) for t in pq.read_table(f).column("text").to_pylist()]

    deid = TextDeidentifier()
    raw_hits = sum(bool(deid.spans(t)) for t in texts(off))
    assert raw_hits > 0  # the generator plants phones, addresses, order numbers
    assert sum(bool(deid.spans(t)) for t in texts(on)) == 0
    assert any("[PHONE_1]" in t for t in texts(on))
    manifest = json.loads((on / "manifest.json").read_text())
    assert manifest["stats"].get("text_privacy.PHONE", 0) > 0 and "text_privacy" in manifest["build_config"]
    assert "## Text de-identification" in (on / "README.md").read_text(encoding="utf-8")
    assert "text_privacy" not in json.loads((off / "manifest.json").read_text())["build_config"]

    # annotate push: raw text refused in one line before any server is contacted; de-identified passes the check
    env = {"MMDIAL_LABEL_STUDIO_URL": "http://127.0.0.1:9", "MMDIAL_LABEL_STUDIO_TOKEN": "x"}
    res = RUNNER.invoke(
        __import__("pipelines.cli.main", fromlist=["app"]).app,
        ["annotate", "push", "summary", "--from", str(off), "--project", "p"],
        env=env,
    )
    assert res.exit_code == 2 and "not de-identified" in res.output and "--allow-raw-text" in res.output
    assert len(res.output.strip().splitlines()) == 1
    res = RUNNER.invoke(
        __import__("pipelines.cli.main", fromlist=["app"]).app,
        ["annotate", "push", "summary", "--from", str(on), "--project", "p"],
        env=env,
    )
    assert "not de-identified" not in res.output


class _Ctx:
    """The two ShardContext methods the text stage calls."""

    def __init__(self):
        self.rows, self.stats = [], {}

    def emit(self, table, row):
        self.rows.append((table, row))

    def add_stat(self, name, value=1):
        self.stats[name] = self.stats.get(name, 0) + value


def test_build_stage_covers_every_free_text_column_with_one_numbering_per_dialogue():
    from pipelines.privacy.hooks import with_text_privacy

    raw = _Ctx()
    ctx = with_text_privacy(raw, TextDeidentifier())
    assert with_text_privacy(raw, None) is raw  # off: the builder's own context, untouched
    ctx.emit("turns", {"dialog_id": "d", "text": "我是张伟，电话13812345678", "text_templated": None})
    ctx.emit("rec_samples", {"dialog_id": "d", "context": [{"turn_index": 0, "text": "电话 138-1234-5678", "image_ids": []}]})
    ctx.emit("jddc_summaries", {"dialog_id": "d", "summary": "用户13812345678询问发货"})
    ctx.emit("products", {"product_id": "p", "name": "张伟同款 13812345678"})  # not a dialogue text table
    (_, turn), (_, sample), (_, summary), (_, product) = raw.rows
    assert turn["text"] == "我是[PERSON_1]，电话[PHONE_1]" and turn["text_templated"] is None
    assert sample["context"][0]["text"] == "电话 [PHONE_1]" and sample["context"][0]["turn_index"] == 0
    assert summary["summary"] == "用户[PHONE_1]询问发货"
    assert product["name"] == "张伟同款 13812345678"
    assert raw.stats == {"text_privacy.PHONE": 3, "text_privacy.PERSON": 1}


@pytest.mark.slow
def test_redial_build_keeps_movie_titles_and_templates(tmp_path):
    """ReDial's generated chat holds movie titles and `[PH]` templates, no personal values: the
    text stage changes nothing (a precision check on chat about movies)."""
    raw = tmp_path / "raw"
    assert cli("generate", "redial", "--out", str(raw)).exit_code == 0
    built = {}
    for flag in ("--deidentify-text", "--no-deidentify-text"):
        out = tmp_path / flag
        res = cli("build", "redial", "--raw", str(raw), "--out", str(out), "--quiet", flag)
        assert res.exit_code == 0, res.output
        rows = [r for f in sorted((out / "turns").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
        built[flag] = sorted(rows, key=lambda r: (r["dialog_id"], r["turn_index"]))
    on, off = built["--deidentify-text"], built["--no-deidentify-text"]
    assert any("[PH]" in (r["text_templated"] or "") for r in on)
    changed = [(a["text"], b["text"]) for a, b in zip(on, off) if (a["text"], a["text_templated"]) != (b["text"], b["text_templated"])]
    assert len(changed) <= len(on) // 100, changed[:5]  # at most 1 % of turns touched
    manifest = json.loads((tmp_path / "--deidentify-text" / "manifest.json").read_text())
    assert "text_privacy" in manifest["build_config"]
