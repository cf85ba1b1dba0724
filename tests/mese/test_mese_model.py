"""MESE's inputs, masks and losses behave as section 3 says (tiny random models on a small build)."""

from __future__ import annotations

import pytest
import torch

from modeling.mese.batch import TrainBatches, build_sequence, collate


def test_item_text_joins_metadata_and_drops_content(tiny_setup):
    items = tiny_setup.items
    i = next(k for k in range(len(items)) if items.fields[k].get("plot"))
    full, bare = items.text(i), items.text(i, content=False)
    assert full.startswith(items.fields[i]["title"] + " [SEP] ") and items.fields[i]["plot"] in full and " [SEP] " in bare
    assert items.fields[i]["genre"] not in bare.split(" [SEP] ") and items.fields[i]["plot"] not in bare
    assert items.fields[i]["director"] in bare


def test_sequence_interleaves_items_and_targets_the_response(tiny_setup):
    st = tiny_setup
    split = st.split("train")
    cache = st.cache(split)
    tok = st.tok
    s = next(x for x in split.rec_samples() if x.turn >= 3)
    turns = split.dialogs[s.dialog]
    b = build_sequence(split, cache, s, st.spec)
    context_items = [i for t in turns[: s.turn] for i in t.items]
    target = turns[s.turn]
    assert [x for x in b.slots if x >= 0] == context_items + target.items  # one ITE slot per mention, in order
    assert all((x >= 0) == (t == tok.item) for x, t in zip(b.slots, b.tokens, strict=True))
    assert b.tokens[b.rec_pos] == tok.rec and b.tokens[b.rec_pos - 1] == tok.system and b.targets[b.rec_pos] == tok.rec
    labelled = [t for t in b.targets if t != -100]
    assert labelled == [tok.rec] + cache.ids[s.dialog][s.turn][: st.spec.max_response_tokens] + [tok.eos]
    assert tok.ph in labelled  # titles are predicted as [PH]
    assert b.tokens.count(tok.user) + b.tokens.count(tok.system) == s.turn + 1
    chit = next(x for x in split.samples if not turns_of(split, x).items)
    c = build_sequence(split, cache, chit, st.spec)
    assert c.rec_pos == -1 and tok.rec not in c.tokens


def turns_of(split, s):
    return split.dialogs[s.dialog][s.turn]


def test_candidates_see_the_prefix_not_each_other_at_one_position(tiny_setup):
    st = tiny_setup
    split = st.split("train")
    cache = st.cache(split)
    s = split.rec_samples()[0]
    b = build_sequence(split, cache, s, st.spec, with_target=False, force_rec=True)
    cands = [3, 7, 11, 19]
    batch = collate([b], [cands], [[7]], st.tok.pad, st.tok.item)
    S, n = batch["cand_start"], len(b.tokens)
    allowed = batch["allowed"][0, 0]
    for j in range(len(cands)):
        row = allowed[S + j]
        assert row[: b.rec_pos + 1].all() and row[S + j] and row.sum() == b.rec_pos + 2
    assert (batch["position_ids"][0, S:] == b.rec_pos + 1).all() and n == S
    assert batch["pair_c"].tolist() == [1] and batch["pair_mask"][0].all()


@pytest.mark.slow
def test_ranking_is_order_free_and_d_r_ignores_the_candidates(tiny_setup):
    torch.manual_seed(0)
    st = tiny_setup
    model = st.build_model().eval()
    split = st.split("train")
    cache = st.cache(split)
    s = split.rec_samples()[1]
    b = build_sequence(split, cache, s, st.spec, with_target=False, force_rec=True)
    pad, item = st.tok.pad, st.tok.item
    with torch.no_grad():
        one = collate([b], [[2, 5, 9, 14, 21]], [[]], pad, item)
        h1, _ = model.run(one)
        perm = collate([b], [[21, 9, 2, 14, 5]], [[]], pad, item)
        h2, _ = model.run(perm)
        alone = collate([b], [[9]], [[]], pad, item)
        h3, _ = model.run(alone)
        none = collate([b], [[]], [[]], pad, item)
        h4, _ = model.run(none)
    r1 = dict(zip([2, 5, 9, 14, 21], model.rank_scores(h1, one)[0].tolist(), strict=True))
    r2 = dict(zip([21, 9, 2, 14, 5], model.rank_scores(h2, perm)[0].tolist(), strict=True))
    for k in r1:
        assert r1[k] == pytest.approx(r2[k], abs=1e-5)
    assert model.rank_scores(h3, alone)[0, 0].item() == pytest.approx(r1[9], abs=1e-5)
    assert len(set(round(v, 5) for v in r1.values())) == 5  # the scores do depend on the item
    d = [model.d_r(h, x["rec_pos"])[0] for h, x in ((h1, one), (h4, none))]
    assert torch.allclose(d[0], d[1], atol=1e-5)


def test_joint_loss_has_three_terms_and_training_lowers_it(tiny_setup):
    torch.manual_seed(0)
    st = tiny_setup
    model = st.build_model()
    split = st.split("train")
    batches = TrainBatches(split, st.cache(split), st.spec, len(st.items), 12, 20)
    batch = next(batches.epoch(0, 0))
    assert batch["pair_b"].numel() > 0
    # one term per (sample, positive); its denominator holds that positive and the negatives only
    pairs = list(zip(batch["pair_b"].tolist(), batch["pair_c"].tolist(), batch["pair_mask"], strict=True))
    for b, j, allowed in pairs:
        cand = batch["cand"][b].tolist()
        positives = {cand[jj] for bb, jj, _ in pairs if bb == b}
        assert allowed[j] and cand[j] in positives
        assert all(cand[k] >= 0 and cand[k] not in positives for k in range(len(cand)) if allowed[k] and k != j)
        assert sum(allowed) >= 20 - len(positives)
    loss, parts = model(batch)
    a, b, c = model.weights
    assert (a, b, c) == (0.8, 1.0, 0.28)
    assert loss.item() == pytest.approx(a * parts["L_select"] + b * parts["L_rank"] + c * parts["L_res"], rel=1e-4)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    first = loss.item()
    for _ in range(15):
        loss, _ = model(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.6 * first


def test_item_token_embeddings_start_at_the_word_embedding_scale(tiny_setup):
    """ITEs replace word embeddings in the backbone's input: at init their rms is the word
    embeddings' (not several times larger, which drowned the context at ranking slots)."""
    torch.manual_seed(0)
    model = tiny_setup.build_model().eval()
    with torch.no_grad():
        ite = model.encode_all(model.ite_encoder)
    word = model.backbone.transformer.wte.weight
    ratio = float(ite.pow(2).mean().sqrt() / word.pow(2).mean().sqrt())
    assert 0.5 < ratio < 2.0, ratio
