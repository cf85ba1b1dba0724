"""JDDC part 2: discourse parsing and summarisation (issue #13).

Metric golden cases are worked out by hand in the comments; the model tests train tiny models on a
small synthetic build."""

from __future__ import annotations

import json
import math

import pytest

from modeling.jddc.data import Turn
from modeling.jddc.discourse.data import RELATION_INDEX, DiscourseExample, Edu
from modeling.jddc.discourse.metrics import discourse_f1
from modeling.jddc.discourse.run import previous_edu_links
from modeling.jddc.summary.data import SummaryExample, kept_turns, plain_text
from modeling.jddc.summary.extractive import lead, lexrank
from modeling.jddc.summary.run import _decode, encode_source, encode_target
from modeling.jddc.summary.trivial import TrivialFilter
from modeling.metrics.text import rouge

QA = "Question&Answer/Question/SWIH"
AFF = "Question&Answer/Answer/Affirmation"
SOC = "Communication/Social/Social"


# -- discourse metrics ---------------------------------------------------------------------------
def test_discourse_f1_golden_cases():
    gold_a = [(1, 0, SOC), (2, 1, QA), (3, 2, AFF), (4, 2, AFF)]
    pred_a = [(1, 0, SOC), (2, 1, AFF), (3, 2, AFF), (4, 3, AFF)]  # links 1,2,3 right; relations right on 1,3
    gold_b = [(1, 0, QA), (2, 1, AFF)]
    pred_b = [(2, 1, AFF)]  # a parser that cannot see EDU 1's link (fewer predictions)
    r = discourse_f1([(gold_a, pred_a), (gold_b, pred_b)])
    # links: 6 gold, 5 predicted, 4 right (a: 1,2,3; b: 2) -> P 4/5, R 4/6, F1 = 2*4/(5+6) = 8/11
    assert r["link"]["precision"] == pytest.approx(4 / 5)
    assert r["link"]["recall"] == pytest.approx(4 / 6)
    assert r["link"]["f1"] == pytest.approx(8 / 11)
    # link & relation: a: (1,0,SOC), (3,2,AFF); b: (2,1,AFF) -> 3 right; F1 = 2*3/11
    assert r["link_relation"]["f1"] == pytest.approx(6 / 11)
    assert (r["gold_links"], r["predicted_links"]) == (6, 5)


def test_discourse_f1_perfect_and_empty():
    gold = [(1, 0, SOC), (2, 0, QA)]
    assert discourse_f1([(gold, gold)])["link_relation"]["f1"] == 1.0
    assert discourse_f1([(gold, [])])["link"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_previous_edu_baseline_attaches_every_visible_edu_to_the_one_before():
    edus = [Edu(k, True, "字", []) for k in range(4)]
    x = DiscourseExample("d", edus, [(1, 0, SOC), (2, 0, QA), (3, 2, AFF)])
    assert previous_edu_links(x, AFF) == [(1, 0, AFF), (2, 1, AFF), (3, 2, AFF)]
    r = discourse_f1([(x.gold, previous_edu_links(x, AFF))])
    assert r["link"]["f1"] == pytest.approx(2 / 3) and r["link_relation"]["f1"] == pytest.approx(1 / 3)
    text_only = DiscourseExample("d", [edus[0], edus[2], edus[3]], x.gold)  # EDU 1 is an image
    assert previous_edu_links(text_only, AFF) == [(2, 0, AFF), (3, 2, AFF)]
    r = discourse_f1([(x.gold, previous_edu_links(text_only, AFF))])  # 2 of 3 links right, 2 predicted
    assert r["link"]["precision"] == 1.0 and r["link"]["recall"] == pytest.approx(2 / 3)


def test_text_only_parser_cannot_target_hidden_image_edus():
    edus = [Edu(0, True, "你好", []), Edu(2, True, "这个怎么安装？", []), Edu(3, False, "亲，说明书第3页有步骤", [])]
    gold = [(1, 0, "Contingency/Contingency/Background"), (2, 1, QA), (3, 2, "Contingency/Contingency/Solution")]
    x = DiscourseExample("d", edus, gold)  # EDU 1 (an image) is not among the text-only EDUs
    assert x.gold_parents() == [(-1, -1), (-1, -1), (1, RELATION_INDEX["Contingency/Contingency/Solution"])]


# -- summary metric, Lead, LexRank, trivial filter -------------------------------------------------
def test_rouge_over_characters_golden_case():
    hyp, ref = "用户咨询电饭煲", "用户询问电饭煲的容量"
    r = rouge([hyp], [ref])
    # unigrams: 6 shared of 7 / 10 -> F1 = 2*6/17; bigrams: 用户 电饭 饭煲 of 6 / 9 -> 2*3/15;
    # LCS 用户询电饭煲 = 6 -> 2*6/17
    assert r["ROUGE-1"] == pytest.approx(12 / 17)
    assert r["ROUGE-2"] == pytest.approx(6 / 15)
    assert r["ROUGE-L"] == pytest.approx(12 / 17)


def test_lead_and_lexrank_respect_the_length_budget():
    assert lead("用户咨询电饭煲的容量", 4) == "用户咨询"
    sentences = ["你好", "电饭煲的容量是多少", "这款电饭煲容量是5L", "电饭煲容量5L的哦", "谢谢"]
    out = lexrank(sentences, 9, "char")
    # whole utterances in dialogue order, cut to the budget once they reach it
    assert len(out) == 9 and any(out.startswith(s[:9]) for s in sentences)
    assert lexrank(sentences, 200, "char") == "".join(sentences)  # a budget above the dialogue takes it all
    assert lexrank([], 9) == ""


@pytest.mark.slow  # jieba loads its dictionary
def test_lexrank_over_jieba_words():
    sentences = ["电饭煲的容量是多少", "这款电饭煲容量是5L", "快递明天到"]
    assert len(lexrank(sentences, 9, "word")) == 9


def _ex(texts, trivial):
    turns = [Turn(i, "user" if i % 2 == 0 else "system", t) for i, t in enumerate(texts)]
    return SummaryExample("d", turns, set(trivial), "")


def test_trivial_filter_learns_the_annotation_and_generalises():
    train = [
        _ex(["你好", "您好，我是客服小美", "这个电饭煲容量多大？", "请稍等", "是5L的哦", "好的谢谢"], [0, 1, 3, 5]),
        _ex(["在吗", "您好，我是客服小东", "快递怎么还没到？", "亲，请稍等一下", "已经在派送了", "谢谢"], [0, 1, 3, 5]),
        _ex(["您好", "您好，我是客服豆豆", "屏幕显示E1是什么问题？", "稍等哦", "建议断电重启", "好的谢谢你"], [0, 1, 3, 5]),
    ]
    f = TrivialFilter().fit(train)
    held_out = _ex(["你好呀", "您好，我是客服阿杰", "这件羽绒服会掉色吗？", "请稍等哦", "正常洗涤不会掉色的", "谢谢啦"], [0, 1, 3, 5])
    kept = kept_turns(held_out, "predicted", f)
    assert [t.index for t in kept] == [2, 4]
    assert [t.index for t in kept_turns(held_out, "gold")] == [2, 4]
    assert len(kept_turns(held_out, "keep")) == 6
    assert TrivialFilter.from_json(json.loads(json.dumps(f.to_json()))).log_odds(held_out.turns[0]) == pytest.approx(
        f.log_odds(held_out.turns[0])
    )
    assert plain_text([Turn(0, "user", "", ["img"]), Turn(1, "system", "好的")]) == "[图片]好的"


def test_pointer_generator_copies_characters_outside_the_vocabulary():
    from modeling.jddc.tokenizer import CharTokenizer

    tok = CharTokenizer.train(["用户询问订单", "客服答复"])
    e = encode_source([Turn(0, "user", "订单号Ж7"), Turn(1, "system", "", ["x"])], tok, 64)
    assert e["oovs"] == ["号", "Ж", "7"]
    assert e["ids"][0] == tok.cls_id and e["ids"][1] == tok.usr_id and tok.img_id in e["ids"]
    assert e["ext"][4:7] == [tok.vocab_size, tok.vocab_size + 1, tok.vocab_size + 2]
    ids, ext = encode_target("订单号Ж", tok, e["oovs"], 10)
    assert ids[2] == tok.unk_id and ext[2] == tok.vocab_size  # the target points at the copied OOV
    assert _decode(ext, tok, e["oovs"]) == "订单号Ж"
    assert math.isclose(len(e["segments"]), len(e["ids"]))
