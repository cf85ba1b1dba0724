"""Golden, hand-computed cases for modeling/metrics/text.py (character units, fractions)."""

from __future__ import annotations

import math

import pytest

from modeling.metrics.text import binary_f1, chars, corpus_bleu, distinct, generation_metrics, macro_f1, perplexity, rouge, rouge_pair


def test_units_are_characters_without_whitespace():
    assert chars("我 爱\t北京 ") == ["我", "爱", "北", "京"]


def test_bleu_identical_is_one_and_disjoint_is_zero():
    assert corpus_bleu(["我爱北京天安门"], ["我爱北京天安门"]) == pytest.approx(1.0)
    assert corpus_bleu(["甲乙丙丁"], ["子丑寅卯"]) == pytest.approx(0.0, abs=1e-9)


def test_bleu2_partial_precisions():
    # hyp 甲乙丙丁 vs ref 甲乙丙戊: p1 = 3/4, p2 = 2/3, BP = 1 -> sqrt(3/4 * 2/3) = sqrt(1/2)
    assert corpus_bleu(["甲乙丙丁"], ["甲乙丙戊"], n=2) == pytest.approx(math.sqrt(0.5), abs=1e-6)


def test_bleu4_partial_precisions():
    # 甲乙丙丁戊 vs 甲乙丙丁己: p1 4/5, p2 3/4, p3 2/3, p4 1/2 -> (1/5) ** (1/4)
    assert corpus_bleu(["甲乙丙丁戊"], ["甲乙丙丁己"], n=4) == pytest.approx(0.2**0.25, abs=1e-6)


def test_bleu_brevity_penalty_and_spaces_ignored():
    # hyp 7 chars, all n-grams match, ref 9 chars: BP = exp(1 - 9/7)
    assert corpus_bleu(["我爱 北京天安门"], ["我爱北京天安门广场"]) == pytest.approx(math.exp(1 - 9 / 7), abs=1e-6)


def test_bleu_is_corpus_level_not_a_mean_of_sentences():
    # counts pooled: p1 = (3 + 2) / (4 + 2) = 5/6, p2 = (2 + 1) / (3 + 1) = 3/4; lengths 6 vs 6
    got = corpus_bleu(["甲乙丙丁", "子丑"], ["甲乙丙戊", "子丑"], n=2)
    assert got == pytest.approx(math.sqrt(5 / 6 * 3 / 4), abs=1e-6)


def test_rouge_n_and_l_on_characters():
    assert rouge_pair("我爱北京", "我爱上海", "1") == pytest.approx(0.5)
    assert rouge_pair("我爱北京", "我爱上海", "2") == pytest.approx(1 / 3)
    assert rouge_pair("我爱北京", "我爱上海", "L") == pytest.approx(0.5)
    # LCS(ABCBDAB, BDCABA) = 4: P = 4/7, R = 4/6 -> F1 = 8/13
    assert rouge_pair("ABCBDAB", "BDCABA", "L") == pytest.approx(8 / 13)
    assert rouge_pair("", "我", "L") == 0.0


def test_rouge_clips_repeated_ngrams():
    # hyp 好好好 vs ref 好: overlap min(3, 1) = 1, P = 1/3, R = 1 -> F1 = 0.5
    assert rouge_pair("好好好", "好", "1") == pytest.approx(0.5)


def test_rouge_corpus_is_mean_of_pairs():
    got = rouge(["我爱北京", "好"], ["我爱上海", "好"])
    assert got["ROUGE-1"] == pytest.approx((0.5 + 1.0) / 2)
    assert got["ROUGE-L"] == pytest.approx((0.5 + 1.0) / 2)


def test_distinct_over_all_outputs():
    # unigrams 你 好 你 好 你 们: 3 distinct / 6; bigrams 你好 好你 你好 你们: 3 / 4
    assert distinct(["你好你好", "你们"], 1) == pytest.approx(0.5)
    assert distinct(["你好你好", "你们"], 2) == pytest.approx(0.75)
    assert distinct(["一"], 2) == 0.0
    assert distinct(["甲乙丙丁"], 3) == pytest.approx(1.0)


def test_perplexity():
    assert perplexity(3 * math.log(2), 3) == pytest.approx(2.0)
    assert perplexity(1.0, 0) == math.inf


def test_f1_positive_negative_macro():
    pred = [True, True, False, False, True]
    gold = [True, False, False, True, True]
    # positive: TP 2, FP 1, FN 1 -> 4/6; negative: TP 1, FP 1, FN 1 -> 2/4
    assert binary_f1(pred, gold) == pytest.approx(4 / 6)
    assert binary_f1(pred, gold, positive=False) == pytest.approx(0.5)
    assert macro_f1(pred, gold) == pytest.approx((4 / 6 + 0.5) / 2)
    assert binary_f1([False], [False]) == 0.0


def test_generation_metrics_names_and_length_check():
    got = generation_metrics(["你好"], ["你好"], bleu_n=(2, 4), distinct_n=(1, 2, 3))
    assert set(got) == {"BLEU-2", "BLEU-4", "ROUGE-1", "ROUGE-2", "ROUGE-L", "Distinct-1", "Distinct-2", "Distinct-3"}
    with pytest.raises(ValueError):
        corpus_bleu(["a"], [])


def _reference_rouge(hyp: str, ref: str, kind: str) -> float:
    """An independent reading of Lin (2004) over characters, to pin the library's answer."""
    from collections import Counter

    h, r = chars(hyp), chars(ref)
    if kind == "L":
        prev = [0] * (len(r) + 1)
        for x in h:
            cur = [0]
            for j, y in enumerate(r):
                cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
            prev = cur
        overlap, nh, nr = prev[-1], len(h), len(r)
    else:
        n = int(kind)
        hc = Counter(tuple(h[i : i + n]) for i in range(len(h) - n + 1))
        rc = Counter(tuple(r[i : i + n]) for i in range(len(r) - n + 1))
        overlap, nh, nr = sum((hc & rc).values()), sum(hc.values()), sum(rc.values())
    p, rec = (overlap / nh if nh else 0.0), (overlap / nr if nr else 0.0)
    return 2 * p * rec / (p + rec) if p + rec else 0.0


def test_rouge_from_the_library_equals_the_definition_on_a_golden_set():
    import random

    rng = random.Random(7)
    alphabet = "甲乙丙丁戊己庚辛我你他好的了 abcAB"
    pairs = [("", ""), ("", "甲"), ("甲", ""), ("ab ab", "abab"), ("我的我的我的", "我的")]
    pairs += [
        ("".join(rng.choices(alphabet, k=rng.randint(0, 14))), "".join(rng.choices(alphabet, k=rng.randint(0, 14)))) for _ in range(200)
    ]
    for hyp, ref in pairs:
        for kind in ("1", "2", "L"):
            assert rouge_pair(hyp, ref, kind) == pytest.approx(_reference_rouge(hyp, ref, kind), abs=1e-12), (hyp, ref, kind)
    got = rouge([h for h, _ in pairs], [r for _, r in pairs])
    want = sum(_reference_rouge(h, r, "2") for h, r in pairs) / len(pairs)
    assert got["ROUGE-2"] == pytest.approx(want, abs=1e-12)


def test_f1_from_the_library_equals_the_counts_on_random_labels():
    import random

    rng = random.Random(3)
    for _ in range(50):
        n = rng.randint(1, 30)
        pred = [rng.random() < 0.5 for _ in range(n)]
        gold = [rng.random() < 0.4 for _ in range(n)]
        for pos in (True, False):
            tp = sum(p == pos and g == pos for p, g in zip(pred, gold))
            fp = sum(p == pos and g != pos for p, g in zip(pred, gold))
            fn = sum(p != pos and g == pos for p, g in zip(pred, gold))
            want = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
            assert binary_f1(pred, gold, pos) == pytest.approx(want)
        assert macro_f1(pred, gold) == pytest.approx((binary_f1(pred, gold, True) + binary_f1(pred, gold, False)) / 2)
