"""Recognisers one by one (switching any of them off fails its case), the key/value structure over
OCR geometry, names, numbers in any spacing, the YAML registry, and the held-out split's honesty."""

from __future__ import annotations

import pytest

from pipelines.privacy.engines import TextLine
from pipelines.privacy.recognizers import RecognizerSet, builtin_names, cn_id, load_registry, luhn


def box(x0, y0, x1, y1):
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def found(text: str, rs: RecognizerSet | None = None) -> set[tuple[str, str, str]]:
    """(matched text, entity, recogniser) of one line: which recogniser matched is kept."""
    rs = rs or RecognizerSet.build()
    return {(text[m.start : m.end], m.entity, m.recognizer) for m in rs.recognise([TextLine(text, box(0, 0, 400, 20), 1.0)])}


def base(recognizer: str) -> str:
    for suffix in ("_neighbour", "_beside_pii"):
        recognizer = recognizer.removesuffix(suffix)
    return recognizer


# one case per recogniser: a line, and the span that recogniser alone must find in it
CASES = {
    "phone_cn_mobile": ("my number 139 1234 5678", "139 1234 5678"),  # no label word at all
    "phone_cn_mobile_masked": ("尾号 135****8888", "135****8888"),
    "phone_cn_landline": ("座机 (010) 6234-5678 转 123", "(010) 6234-5678 转 123"),
    "phone_cn_service": ("客服 400-820-8820", "400-820-8820"),
    "phone_intl": ("call +852 9123 4567 today", "+852 9123 4567"),
    "phone_us": ("reach me at (415) 555-0199", "(415) 555-0199"),
    "phone_uk": ("ring 07700 900123 after six", "07700 900123"),
    "id_card_cn": ("证件 110105 19900307 1239", "110105 19900307 1239"),
    "bank_card": ("退到 6222 0212 3456 7894 120 这张卡", "6222 0212 3456 7894 120"),
    "email": ("发到 li.na88@example.com 谢谢", "li.na88@example.com"),
    "long_digit_run": ("单子 2023 0615 1234 5678 还没到", "2023 0615 1234 5678"),
    "tracking_ups": ("UPS 1Z 999 AA1 01 2345 6784", "1Z 999 AA1 01 2345 6784"),
    "tracking_upu": ("EMS EA 123 456 789 CN", "EA 123 456 789 CN"),
    "tracking_carrier_cn": ("圆通 YT 1234 5678 9012 3", "YT 1234 5678 9012 3"),
    "licence_plate_cn": ("车牌粤B·D1234的师傅", "粤B·D1234"),
    "wechat_id": ("加我vx zhang_wei88 发你", "zhang_wei88"),
    "qq_id": ("我扣扣 2345 67890", "2345 67890"),
    "address_cn": ("寄到上海市浦东新区张江路88弄6幢2单元1203室吧", "上海市浦东新区张江路88弄6幢2单元1203室"),
    "address_en": ("send it to 221B Baker Street, London NW1 6XE please", "221B Baker Street, London NW1 6XE"),
    "postcode_uk": ("postcode LS6 2AB", "LS6 2AB"),
    "address_intl": ("send it to 55 Rue de Rivoli, 75001 Paris please", "55 Rue de Rivoli, 75001 Paris"),
    "store_name_cn": ("来自美的官方旗舰店的包裹", "来自美的官方旗舰店"),
    "store_name_en": ("parcel from Brightway Shop today", "Brightway Shop"),
    "model_number": ("型号 XR-5000", "XR-5000"),
    "zh_person_name": ("你好，我叫王小明，订单还没到", "王小明"),
    "en_person_cue": ("Hi Team, my name is Peter Parker", "Peter Parker"),
    "zh_person_stats": ("谌鹏飞的快递到了吗", "谌鹏飞"),  # no cue at all, rare surname: statistics
    "en_person_stats": ("Can Priya Okonkwo pick it up tomorrow?", "Priya Okonkwo"),
    "key_value": ("配送员：李建国", "李建国"),  # an unseen label of a known shape (…员)
}


def test_every_recogniser_has_a_case():
    assert set(builtin_names("image")) == set(CASES)  # text-only ones: pipelines/privacy/test_text.py


@pytest.mark.parametrize("name", sorted(CASES))
def test_recogniser_alone_finds_its_case(name):
    text, span = CASES[name]
    alone = RecognizerSet.build([name])

    def covered(hits):  # the span, and at most a few characters around it
        return any(base(r) == name and span in t and len(t) <= len(span) + 4 for t, _, r in hits)

    assert covered(found(text, alone)), found(text, alone)
    assert covered(found(text))  # the full set keeps which recogniser matched


@pytest.mark.parametrize(
    "text, span, entity",
    [
        ("Account holder: Mary Johnson", "Mary Johnson", "person_name"),
        ("客户：刘德华 下单人：周杰", "刘德华", "person_name"),
        ("客户：刘德华 下单人：周杰", "周杰", "person_name"),
        ("开户名：欧阳娜娜", "欧阳娜娜", "person_name"),
        ("收货人张伟 手机：138-1234-5678", "张伟", "person_name"),
        ("Tel 020 7946 0958", "020 7946 0958", "phone"),
        ("Order ref: 5590-5077-9738", "5590-5077-9738", "order_number"),
        ("我是李娜，电话13912345678", "李娜", "person_name"),
        ("麻烦张先生尽快发货", "张", "person_name"),
        ("王明先生您好", "王明", "person_name"),
        ("买家徐明", "徐明", "person_name"),
        ("Recipient孙伟", "孙伟", "person_name"),
        ("Email: james.clark39gexample.com", "james.clark39gexample.com", "email"),  # a misread @ still has its key
    ],
)
def test_key_shapes_and_name_cues(text, span, entity):
    assert span in {t for t, e, _ in found(text) if e == entity}, found(text)


@pytest.mark.parametrize(
    "text",
    [
        "联系人信息",
        "复制",
        "复制 修改 删除",
        "这个店铺的东西不错",
        "in store now",
        "Product name: Wireless Earbuds",
        "商品名称：无线蓝牙耳机",
        "下单时间：2024-03-01 12:30:11",
        "实付款 ¥489.00",
        "Thanks a lot",
        "Contact details",
        "容量500ml 2024款",
        "Visit Store",
        "Shop now",
    ],
)
def test_benign_text_is_left_alone(text):
    assert found(text) == set()


def test_checksums():
    assert luhn("6222 0212 3456 7894 120") and not luhn("6222 0212 3456 7894 121")
    assert cn_id("110105199003071239") and not cn_id("110105199003071234")
    # a 19-digit run that fails Luhn is still an order number, never a bank card
    assert {e for _, e, _ in found("6222021234567894121")} == {"order_number"}


def lines(*items):
    return [TextLine(t, box(*b), 1.0) for t, b in items]


def test_key_alone_masks_the_value_right_or_below():
    rs = RecognizerSet.build()
    # label left, value right (separate OCR boxes, no colon); label above value
    ls = lines(
        ("Delivery address", (10, 10, 150, 30)),
        ("12 Baker Street, London", (10, 36, 220, 56)),
        ("收货人", (10, 80, 70, 100)),
        ("张伟", (200, 80, 240, 100)),
        ("商品名称", (10, 120, 90, 140)),
        ("无线蓝牙耳机", (200, 120, 320, 140)),
    )
    got = {(m.line, m.entity) for m in rs.recognise(ls)}
    assert {(1, "address"), (3, "person_name")} <= got
    assert not any(line in (0, 2, 4, 5) for line, _ in got)  # keys and the product name stay
    # a store name is not a label: the product line under it stays readable
    ls = lines(("Brightway Shop", (10, 10, 150, 30)), ("Cotton T-Shirt", (10, 36, 150, 56)))
    assert {m.line for m in rs.recognise(ls)} == {0}


def test_table_columns_mask_every_row_below_their_header():
    rs = RecognizerSet.build()
    ls = lines(
        ("收件人", (10, 10, 70, 30)),
        ("联系电话", (150, 10, 230, 30)),
        ("张伟", (10, 40, 50, 60)),
        ("13812345678", (150, 40, 260, 60)),
        ("李娜", (10, 70, 50, 90)),
        ("13912345678", (150, 70, 260, 90)),
    )
    got = {(m.line, m.entity) for m in rs.recognise(ls) if m.recognizer.startswith("key_value")}
    assert {(2, "person_name"), (4, "person_name"), (3, "phone"), (5, "phone")} <= got


def test_registry_is_extended_from_a_yaml_file(tmp_path):
    extra = tmp_path / "more.yaml"
    extra.write_text(
        """
recognizers:
  - name: member_card
    entity: account
    kind: pattern
    regex: 'VIP-[0-9]{6}'
  - name: phone_uk
    enabled: false
key_value:
  entities:
    - entity: person_name
      zh_suffixes: [骑手]
""",
        encoding="utf-8",
    )
    rs = RecognizerSet.build(files=[str(extra)])
    assert "member_card" in rs.names and "phone_uk" not in rs.names
    assert ("VIP-123456", "account", "member_card") in found("会员 VIP-123456", rs)
    assert "李四" in {t for t, e, _ in found("配送骑手：李四", rs) if e == "person_name"}
    assert "李四" not in {t for t, _, _ in found("配送骑手：李四")}  # the built-in registry alone does not know 骑手
    with pytest.raises(ValueError, match="unknown kind"):
        bad = tmp_path / "bad.yaml"
        bad.write_text("recognizers: [{name: x, kind: magic}]\n", encoding="utf-8")
        RecognizerSet.build(files=[str(bad)])


def test_heldout_label_words_are_not_in_the_registry():
    """The held-out part must really be held out: none of its label words is written in the registry."""
    import json

    from pipelines.privacy.generator_vocab import LABELS

    registry = json.dumps(load_registry(), ensure_ascii=False).lower()
    leaked = [w for ent in LABELS["heldout"].values() for words in ent.values() for w in words if w.lower() in registry]
    assert leaked == []
    tune = {w for ent in LABELS["tune"].values() for words in ent.values() for w in words}
    held = {w for ent in LABELS["heldout"].values() for words in ent.values() for w in words}
    assert not tune & held


def test_the_readme_example_registry_works(tmp_path):
    import pathlib
    import re

    readme = (pathlib.Path(__file__).parent / "README.md").read_text(encoding="utf-8")
    block = re.search(r"### Adding recognisers without code.*?```yaml\n(.*?)```", readme, re.S).group(1)
    path = tmp_path / "my_recognizers.yaml"
    path.write_text(block, encoding="utf-8")
    rs = RecognizerSet.build(files=[str(path)])
    assert ("VIP-123456", "account", "member_card") in found("会员 VIP-123456", rs)
    assert not any(r == "member_card" for _, _, r in found("code VIP-123456", rs))  # no context word before it
    assert ("sunny.li", "account", "line_id") in found("LINE ID: sunny.li", rs)
    assert "李四" in {t for t, e, _ in found("配送骑手：李四", rs) if e == "person_name"}
    assert "phone_uk" not in rs.names
    assert found("Warranty no.: 12345678", rs) == set()  # an excluded key announces nothing
    assert ("12345678", "order_number", "key_value") in found("Warranty no.: 12345678")  # without the file it would


@pytest.mark.parametrize(
    "text, span",
    [
        ("实名认证谌鹏飞", "谌鹏飞"),  # key and value read as one OCR line, no separator: split by the key's shape (…认证)
        ("昵称tb81234567_2012", "tb81234567_2012"),  # …称 announces an account; glued, an id-like value only
        ("会员名小太阳2020", "小太阳2020"),
        ("安装工程师王刚", "王刚"),  # …师
        ("快递小哥李强", "李强"),  # …哥
        ("收 张三", "张三"),  # one-character waybill labels
        ("寄 李四 13812345678", "李四"),
        ("Name: John Smith, Phone +1 415 555 0100", "John Smith"),  # the value ends at the separator
    ],
)
def test_key_and_value_on_one_line(text, span):
    assert any(t == span for t, _, _ in found(text)), found(text)


@pytest.mark.parametrize("text", ["昵称设置", "收藏", "实付款：¥5999.00", "运费险：已投保"])
def test_one_line_keys_leave_benign_values(text):
    assert not {t for t, e, _ in found(text) if e in ("person_name", "account")}, found(text)


def test_unknown_form_keys_mask_identifier_values_on_images_only():
    """The default flipped inside key/value structures: an unknown label with an identifier value
    is masked (recorded as key_value_default); money, dates, quantities and benign keys are not;
    dialogue text keeps its own precision (no flip)."""
    assert ("88231456", "identifier", "key_value_default") in found("会员卡：88231456")
    for benign in ("合计：129900.00", "实付款：¥1,299.00", "下单时间：2024-06-01 12:00", "库存：125000件", "积分：12800", "型号：88231456"):
        assert not found(benign), benign
    text = RecognizerSet.build(medium="text")
    assert not found("会员卡：88231456", text)


def test_vocabulary_files_in_every_documented_format(tmp_path):
    """A store or brand list given as text (comments skipped), JSON (strings or objects) or JSON lines."""
    from pipelines.privacy.recognizers import load_vocab

    (tmp_path / "v.txt").write_text("# stores\n华为旗舰店\n\nAcme Outlet\n", encoding="utf-8")
    (tmp_path / "v.json").write_text('["华为旗舰店", {"name": "Acme Outlet"}, {"term": "小米之家"}]', encoding="utf-8")
    (tmp_path / "v.jsonl").write_text('{"value": "华为旗舰店"}\n\n"Acme Outlet"\n', encoding="utf-8")
    assert load_vocab(str(tmp_path / "v.txt")) == ["华为旗舰店", "Acme Outlet"]
    assert load_vocab(str(tmp_path / "v.json")) == ["华为旗舰店", "Acme Outlet", "小米之家"]
    assert load_vocab(str(tmp_path / "v.jsonl")) == ["华为旗舰店", "Acme Outlet"]
