"""`mmdial evaluate mese --run RUN`: Tables 2, 3 and 6 metrics per seed, mean and std over seeds,
popularity and random references on the same instances; `metrics.json` in RUN and
`samples.jsonl` (sample dialogues with the system's recommendations and responses) per seed.

Two protocols (`--protocol`, recorded in metrics.json with their definitions):

- `mmdial` (default), described below;
- `paper`: MESE's official language metrics (modeling/mese/paper_metrics.py): every system turn
  generated with its gold items given by sampled beam search (modeling/mese/paper_generate.py),
  Distinct-n = distinct n-grams / sentences, BLEU = mean nltk sentence BLEU (method 7), PPL = mean
  per-sentence exp(loss). R@k, the accuracies and ReR are the same under both.

The `mmdial` protocol (section 4.2.3): every system turn of the split that mentions items is a recommendation
turn; its context is all preceding turns; each of its items is one instance (modeling/mese/metrics.py).
Language metrics: perplexity of the ground-truth system turns (all of them, teacher forced);
Distinct-2/3/4 and BLEU-2/4 of the responses generated for the recommendation turns, on
lower-cased words, against the turns' real text. As the recommendation metrics are computed for
turns labelled as recommendations, generation on them starts with `[REC]` (`eval.force_rec`,
default true: the top-ranked item's ITE is appended at once); later `[REC]`s append the next items.
"""

from __future__ import annotations

import json
import os

import numpy as np

from modeling.mese import metrics as M

PROTOCOLS = {
    "mmdial": "modeling/mese/metrics.py and modeling/mese/evaluate.py: language metrics on the generated recommendation "
    "turns (greedy, [REC] forced): Distinct-n = distinct/all n-grams, BLEU = sacrebleu corpus BLEU, PPL = exp(corpus mean NLL)",
    "paper": "MESE's official definitions (modeling/mese/paper_metrics.py): every system turn generated with its gold items "
    "given, sampled beam search; Distinct-n = distinct n-grams / sentences; BLEU = mean nltk sentence_bleu (method 7); "
    "PPL = mean per-sentence exp(loss). R@k, accuracies and ReR as in mmdial's protocol",
}
TEXT_KEYS = ("ReR", "PPL", "Dist-2", "Dist-3", "Dist-4", "BLEU-2", "BLEU-4")


def words(text: str) -> list[str]:
    """Lower-cased word and punctuation units (what the English text metrics count)."""
    import re

    return re.findall(r"\[ph\]|\w+|[^\w\s]", text.lower())


def corpus_bleu_words(hyps: list[str], refs: list[str], n: int) -> float:
    """Corpus BLEU-n (sacrebleu; uniform weights up to n, corpus brevity penalty) on `words`, in [0, 1]."""
    from sacrebleu.metrics import BLEU

    if not hyps:
        return 0.0
    bleu = BLEU(tokenize="none", max_ngram_order=n, effective_order=False)
    return bleu.corpus_score([" ".join(words(h)) for h in hyps], [[" ".join(words(r)) for r in refs]]).score / 100.0


def distinct_words(outputs: list[str], n: int) -> float:
    """Distinct-n (Li et al. 2016): distinct word n-grams / all word n-grams over the outputs."""
    from modeling.metrics.text import ngrams

    grams = [g for o in outputs for g in ngrams(words(o), n)]
    return len(set(grams)) / len(grams) if grams else 0.0


def single_genre_items(items) -> tuple[list[int], list[str]]:
    idx = [i for i in range(len(items)) if len(items.genres(i)) == 1]
    return idx, [items.genres(i)[0] for i in idx]


def check_protocol(protocol: str) -> None:
    if protocol not in PROTOCOLS:
        raise ValueError(f"--protocol {protocol!r}: one of {', '.join(PROTOCOLS)}")


def evaluate_seed(
    folder: str, split_name: str, data: str | None, device: str, max_turns: int | None, log=print, protocol: str = "mmdial"
) -> dict:
    import torch

    from modeling.config import load_config
    from modeling.mese.data import cooccurrence, popularity
    from modeling.mese.infer import Recommender, response_nll
    from modeling.mese.setup import Setup
    from modeling.metrics.text import perplexity
    from modeling.train import checkpoint
    from modeling.train.loop import pick_device, seed_everything

    cfg = load_config(os.path.join(folder, "config.yaml"))
    with open(os.path.join(folder, "run.json"), encoding="utf-8") as fh:
        info = json.load(fh)
    ec = cfg["eval"]
    dev = pick_device(device if device != "auto" else cfg["device"])
    root = data or cfg["data"]
    setup = Setup.create(cfg, folder, root)
    train_split = setup.split("train", cfg["data"])
    split = setup.split(split_name, root)
    cache = setup.cache(split)
    # the untrained encoder (MESE raw, Table 6) is the model as training started: same seed, same init
    seed_everything(int(info["seed"]), False)
    raw = setup.build_model().to(dev).eval()
    idx, genres = single_genre_items(setup.items)
    clusters = {}
    if len(set(genres)) >= 2:
        with torch.no_grad():
            raw_emb = raw.encode_all(raw.ite_encoder).float().cpu().numpy()[idx]
        clusters["raw"] = M.clustering_accuracy(raw_emb, genres, ec["cluster_ks"], ec["cluster_repeats"])
        with torch.no_grad():
            raw_sel = raw.encode_all(raw.select_encoder).float().cpu().numpy()[idx]
        clusters["raw_select"] = M.clustering_accuracy(raw_sel, genres, ec["cluster_ks"], ec["cluster_repeats"])
    del raw
    model = setup.build_model().to(dev)
    checkpoint.load(os.path.join(folder, "checkpoints", "last"), model, None, dev)
    model.eval()
    rec = Recommender(model, setup, cooccurrence(train_split) if ec["cooccurrence"] else None, ec["candidates"], dev, cfg["precision"])
    if len(set(genres)) >= 2:
        clusters["trained"] = M.clustering_accuracy(rec.ite.cpu().numpy()[idx], genres, ec["cluster_ks"], ec["cluster_repeats"])
        clusters["trained_select"] = M.clustering_accuracy(rec.sel.cpu().numpy()[idx], genres, ec["cluster_ks"], ec["cluster_repeats"])
    limit = ec["max_turns"] if max_turns is None else max_turns
    samples = split.rec_samples()[: limit or None]
    ranked = rec.recommend(split, cache, samples)
    ranks, cand_ranks = [], []
    pop = np.asarray(popularity(train_split, len(setup.items)))
    pop_order = np.argsort(-pop, kind="stable")
    pop_pos = np.empty(len(pop), dtype=np.int64)
    pop_pos[pop_order] = np.arange(len(pop))
    pop_ranks = []
    for s, r in zip(samples, ranked, strict=True):
        pos = np.empty(len(setup.items), dtype=np.int64)
        pos[r.ranking] = np.arange(len(r.ranking))
        where = {c: j for j, c in enumerate(r.candidates)}
        for gt in dict.fromkeys(split.dialogs[s.dialog][s.turn].items):
            ranks.append(int(pos[gt]))
            cand_ranks.append(where.get(gt))
            pop_ranks.append(int(pop_pos[gt]))
    out = M.recommendation_metrics(ranks, cand_ranks)
    n_items = len(setup.items)
    baselines = {
        "popularity": {f"R@{k}": M.recall_at_k(pop_ranks, k) for k in M.KS},
        "random": {f"R@{k}": min(k, n_items) / n_items for k in M.KS},  # the exact expectation
    }
    # generation on the recommendation turns (ReR, Distinct, BLEU) and perplexity on all system turns
    gen_n = min(len(samples), int(ec["generate_turns"]))
    hyps, refs, gold, dumps = [], [], [], []
    for s, r in zip(samples[:gen_n], ranked[:gen_n], strict=True):
        final, templated, recommended = rec.generate(split, cache, s, r, int(ec["max_new_tokens"]), bool(ec.get("force_rec", True)))
        turn = split.dialogs[s.dialog][s.turn]
        hyps.append(final)
        refs.append(turn.text)
        gold.append([setup.items.titles[i] for i in turn.items])
        if len(dumps) < int(ec["samples"]):
            turns = split.dialogs[s.dialog]
            dumps.append(
                {
                    "dialog_id": split.dialog_ids[s.dialog],
                    "turn_index": s.turn,
                    "context": [f"{t.speaker}: {t.text}" for t in turns[: s.turn]],
                    "gold": turn.text,
                    "gold_items": [setup.items.ids[i] for i in turn.items],
                    "top10": [f"{setup.items.ids[i]} {setup.items.titles[i]}" for i in r.ranking[:10]],
                    "generated_templated": templated,
                    "generated": final,
                    "recommended": [setup.items.ids[i] for i in recommended],
                }
            )
    nll, count = response_nll(model, setup, split, cache, dev, cfg["precision"])
    out.update(
        {
            "ReR": M.response_recall(hyps, gold),
            "PPL": perplexity(nll, count),
            **{f"Dist-{n}": distinct_words(hyps, n) for n in (2, 3, 4)},
            **{f"BLEU-{n}": corpus_bleu_words(hyps, refs, n) for n in (2, 4)},
            "generated_turns": len(hyps),
        }
    )
    if protocol == "paper":
        out.update(paper_language_metrics(rec, model, setup, split, cache, ec, dev, cfg["precision"], int(info["seed"])))
    with open(os.path.join(folder, "samples.jsonl"), "w", encoding="utf-8") as fh:
        for d in dumps:
            fh.write(json.dumps(d, ensure_ascii=False) + "\n")
    log(f"mese seed {info['seed']}: R@10 {out['R@10']:.3f}, R@50 {out['R@50']:.3f}, ReR {out['ReR']:.3f}, PPL {out['PPL']:.1f}")
    from modeling.mese.sources import dataset_of

    return {
        "metrics": out,
        "baselines": baselines,
        "clustering": clusters,
        "variant": info.get("variant", "MESE"),
        "items": n_items,
        "dataset": dataset_of(root),
    }


def paper_language_metrics(rec, model, setup, split, cache, ec: dict, dev, precision: str, seed: int) -> dict:
    """PPL, Distinct-2/3/4 and BLEU-2/4 by MESE's official definitions (modeling/mese/paper_metrics.py)
    on every system turn of the split (the first `eval.paper_turns`, 0: all), each generated with
    its gold items given by sampled beam search (`eval.paper_beams`; modeling/mese/paper_generate.py)."""
    import torch

    from modeling.mese import paper_metrics as P
    from modeling.mese.infer import turn_nlls
    from modeling.mese.paper_generate import generate_with_gold

    turns = split.samples[: int(ec.get("paper_turns", 0)) or None]
    gen = torch.Generator().manual_seed(seed)
    hyps, refs = [], []
    for s in turns:
        hyps.append(generate_with_gold(rec, split, cache, s, int(ec.get("paper_beams", 5)), int(ec["max_new_tokens"]), gen)[0])
        refs.append(split.dialogs[s.dialog][s.turn].text)
    return {
        "PPL": P.mean_sentence_perplexity(turn_nlls(model, setup, split, cache, dev, precision)),
        **{f"Dist-{n}": P.distinct_per_sentence(hyps, n) for n in (2, 3, 4)},
        **{f"BLEU-{n}": P.sentence_bleu_mean(hyps, refs, n) for n in (2, 4)},
        "generated_turns": len(hyps),
    }


def evaluate_run(
    run: str,
    split: str | None = None,
    data: str | None = None,
    device: str = "auto",
    max_turns: int | None = None,
    log=print,
    protocol: str = "mmdial",
) -> dict:
    from modeling.config import load_config
    from modeling.core.runs import mean_std, seed_folders

    check_protocol(protocol)
    runs = seed_folders(run)
    per_seed = {}
    for folder in runs:
        with open(os.path.join(folder, "run.json"), encoding="utf-8") as fh:
            info = json.load(fh)
        if info.get("model") != "mese":
            raise ValueError(f"{folder}: a {info.get('model')} run, not mese")
        cfg = load_config(os.path.join(folder, "config.yaml"))
        per_seed[str(info["seed"])] = evaluate_seed(folder, split or cfg["eval"]["split"], data, device, max_turns, log, protocol)
    first = next(iter(per_seed.values()))

    def agg(get) -> dict:
        keys = get(first).keys()
        return {k: dict(zip(("mean", "std"), mean_std([get(v)[k] for v in per_seed.values()]), strict=True)) for k in keys}

    result = {
        "model": "mese",
        "variant": first["variant"],
        "dataset": first["dataset"],
        "split": split or "test",
        "seeds": per_seed,
        "metrics": agg(lambda v: {k: x for k, x in v["metrics"].items() if isinstance(x, float)}),
        "baselines": {name: agg(lambda v, n=name: v["baselines"][n]) for name in first["baselines"]},
        "clustering": {name: agg(lambda v, n=name: v["clustering"][n]) for name in first["clustering"]},
        "protocol": protocol,
        "definitions": PROTOCOLS[protocol],
    }
    path = os.path.join(run, "metrics.json")
    with open(f"{path}.tmp", "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=2, sort_keys=True)
    os.replace(f"{path}.tmp", path)
    return result
