"""Residual personal data in auto-masked images, estimated from the acceptance sample (issue 20, item 5).

The acceptance check (annotation/acceptance.py) draws a seeded 10% sample of each group of 100
auto-masked images into the `privacy_check` flow; a reviewer boxes what masking left readable or
marks the image clean. Here is only the arithmetic on its outcome, so the annotation side, the
`mask-manual` build that publishes the final images and the card all use one definition:

- residual rate (per group, overall) = sampled images with residual personal data / sampled images
  (the first-round sample only: images a failed group's full review added are not a random sample);
- upper bound 95% = the exact one-sided Clopper-Pearson bound: the p at which
  P(Binomial(n, p) <= k) = 0.05; with k = 0 of n it is 1 - 0.05^(1/n) (n = 10: 25.9%), with k = n it is 1.

Sampling is without replacement from finite groups; the binomial bound is the conservative one for
that (it ignores the finite-population correction). The overall figure pools the groups' samples;
every group is sampled at the same fraction (the last, partial group at ceil(10%) of its size, a
slight over-weight), so the pool estimates the rate over all auto-masked images.
"""

from __future__ import annotations

import hashlib
import json
import math

METHOD = "clopper-pearson one-sided exact binomial upper bound"
CONFIDENCE = 0.95
KIND = "mmdial.privacy_acceptance"  # the `kind` of an acceptance report file (`mmdial annotate qc report --json`)


def ids_digest(ids) -> str:
    """sha256 of the sorted distinct auto-masked image ids: ties an acceptance report to its build."""
    return hashlib.sha256("\n".join(sorted(set(ids))).encode()).hexdigest()


def _log_pmf(k: int, n: int, p: float) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * math.log(p) + (n - k) * math.log1p(-p)


def binom_cdf(k: int, n: int, p: float) -> float:
    """P(Binomial(n, p) <= k), summed in log space (no overflow for large n)."""
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 1.0 if k >= n else 0.0
    return min(1.0, sum(math.exp(_log_pmf(i, n, p)) for i in range(0, k + 1)))


def upper_bound(failures: int, n: int, confidence: float = CONFIDENCE) -> float | None:
    """Exact one-sided upper confidence bound for a binomial proportion (Clopper-Pearson); None for n = 0."""
    if n <= 0:
        return None
    if not 0 <= failures <= n:
        raise ValueError(f"failures must lie in 0..{n}, got {failures}")
    alpha = 1.0 - confidence
    if failures == n:
        return 1.0
    if failures == 0:
        return 1.0 - alpha ** (1.0 / n)
    lo, hi = failures / n, 1.0  # cdf falls from > alpha at the point estimate to 0 at p = 1
    for _ in range(200):
        mid = (lo + hi) / 2
        if binom_cdf(failures, n, mid) > alpha:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-13:
            break
    return hi


def rate_block(sampled: int, failed: int, confidence: float = CONFIDENCE) -> dict:
    """`{sampled, failed, residual_rate, upper_bound_95}` (rates None while nothing is sampled)."""
    ub = upper_bound(failed, sampled, confidence)
    return {
        "sampled": sampled,
        "failed": failed,
        "residual_rate": round(failed / sampled, 6) if sampled else None,
        f"upper_bound_{round(confidence * 100)}": None if ub is None else round(ub, 6),
    }


def estimate(groups: list[dict], confidence: float = CONFIDENCE) -> dict:
    """Per group and overall residual estimate from `[{"group", "images", "sampled", "failed"}, ...]`
    (only fully reviewed samples belong here; the caller says which groups are still pending)."""
    per = [{"group": g["group"], "images": g["images"], **rate_block(g["sampled"], g["failed"], confidence)} for g in groups]
    total_s = sum(g["sampled"] for g in groups)
    total_f = sum(g["failed"] for g in groups)
    return {
        "method": METHOD,
        "confidence": confidence,
        "images": sum(g["images"] for g in groups),
        "groups": len(groups),
        "failed_groups": sum(1 for g in groups if g["failed"]),
        **rate_block(total_s, total_f, confidence),
        "per_group": per,
    }


def load(path: str) -> dict:
    """An acceptance report file, checked; raises ValueError with a one-line reason."""
    from pipelines.core import io

    try:
        doc = json.loads(io.read_bytes(path))
    except ValueError as exc:
        raise ValueError(f"{path}: not JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("kind") != KIND:
        raise ValueError(f"{path}: not an acceptance report (expected kind {KIND!r}, from `mmdial annotate qc report --json`)")
    pending = [g["group"] for g in doc.get("groups", []) if g.get("status") == "pending"]
    if pending:
        raise ValueError(f"{path}: the acceptance check is not finished: group(s) {pending} still pending review")
    to_review = [g["group"] for g in doc.get("groups", []) if g.get("status") == "fail" and not g.get("reviewed_in_full")]
    if to_review:
        raise ValueError(f"{path}: failed group(s) {to_review} are not reviewed in full yet (`mmdial annotate qc requeue`, then review)")
    return doc


def manifest_block(doc: dict) -> dict:
    """What `mask-manual` writes into its manifest as `privacy.acceptance`."""
    est = doc["estimate"]
    return {
        "project": doc.get("project"),
        "seed": doc.get("seed"),
        "fraction": doc.get("fraction"),
        "group_size": doc.get("group_size"),
        "masked_ids_sha256": doc.get("masked_ids_sha256"),
        "groups": est["groups"],
        "failed_groups": est["failed_groups"],
        "images": est["images"],
        "sampled": est["sampled"],
        "failed": est["failed"],
        "residual_rate": est["residual_rate"],
        "upper_bound_95": est["upper_bound_95"],
        "reviewed_in_full": sum(g.get("images", 0) for g in doc.get("groups", []) if g.get("reviewed_in_full")),
        "method": est["method"],
        "per_group": est["per_group"],
    }


def card_lines(block: dict) -> list[str]:
    """The card's section on the acceptance check (pipelines.core.card renders it when present)."""
    pct = lambda x: "n/a" if x is None else f"{100 * x:.2f}%"  # noqa: E731
    return [
        "## Privacy acceptance check of the auto-masked images",
        "",
        f"{block['images']:,} auto-masked images in {block['groups']} group(s) of up to {block['group_size']}; a seeded "
        f"{pct(block['fraction'])} sample of each group (seed {block['seed']}) was checked by people in the `privacy_check` flow.",
        f"Residual personal data was found in {block['failed']} of {block['sampled']} sampled images: estimated residual rate "
        f"**{pct(block['residual_rate'])}**, 95% upper bound **{pct(block['upper_bound_95'])}** ({block['method']}).",
        f"{block['failed_groups']} group(s) failed (a sampled image with residual personal data) and were reviewed in full "
        f"({block['reviewed_in_full']:,} images).",
        "",
        "| group | images | sampled | with residual | residual rate | upper bound 95% |",
        "|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {g['group']} | {g['images']} | {g['sampled']} | {g['failed']} | {pct(g['residual_rate'])} | {pct(g['upper_bound_95'])} |"
            for g in block["per_group"]
        ],
        "",
    ]
