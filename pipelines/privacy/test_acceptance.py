"""The residual estimate of the masked-image acceptance check: Clopper-Pearson against scipy, the
report file's checks, the manifest block and the card section."""

from __future__ import annotations

import json

import pytest

from pipelines.privacy import acceptance as A


@pytest.mark.parametrize("n", [1, 2, 10, 11, 57, 100, 1000, 5000])
@pytest.mark.parametrize("k_share", [0.0, 0.05, 0.3, 0.5, 0.9, 1.0])
def test_upper_bound_matches_scipy_beta_ppf(n, k_share):
    from scipy.stats import beta

    k = round(k_share * n)
    expected = 1.0 if k == n else float(beta.ppf(0.95, k + 1, n - k))
    assert A.upper_bound(k, n) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_zero_failures_closed_form_and_edges():
    assert A.upper_bound(0, 10) == pytest.approx(1 - 0.05 ** (1 / 10))  # 25.89%: one group's sample says little
    assert A.upper_bound(0, 300) == pytest.approx(1 - 0.05 ** (1 / 300))
    assert A.upper_bound(0, 0) is None
    with pytest.raises(ValueError):
        A.upper_bound(11, 10)
    # more failures, or fewer samples, never lower the bound
    bounds = [A.upper_bound(k, 40) for k in range(41)]
    assert bounds == sorted(bounds) and A.upper_bound(2, 20) > A.upper_bound(2, 200)


def test_estimate_pools_groups_and_keeps_each_group():
    est = A.estimate(
        [
            {"group": 0, "images": 100, "sampled": 10, "failed": 0},
            {"group": 1, "images": 100, "sampled": 10, "failed": 2},
            {"group": 2, "images": 15, "sampled": 2, "failed": 0},
        ]
    )
    assert (est["images"], est["groups"], est["failed_groups"], est["sampled"], est["failed"]) == (215, 3, 1, 22, 2)
    assert est["residual_rate"] == pytest.approx(2 / 22, abs=1e-6)
    assert est["upper_bound_95"] == pytest.approx(A.upper_bound(2, 22), abs=1e-6)
    assert [g["residual_rate"] for g in est["per_group"]] == [0.0, 0.2, 0.0]
    assert est["per_group"][2]["upper_bound_95"] == pytest.approx(1 - 0.05**0.5, abs=1e-6)
    assert A.estimate([])["residual_rate"] is None


def _report(groups, tmp_path, **kw):
    doc = {
        "kind": A.KIND,
        "project": "p",
        "seed": 0,
        "fraction": 0.1,
        "group_size": 100,
        "images": 200,
        "masked_ids_sha256": A.ids_digest(["a", "b"]),
        "groups": groups,
        "estimate": A.estimate([{"group": g["group"], "images": 100, "sampled": 10, "failed": g["failed"]} for g in groups]),
        **kw,
    }
    path = tmp_path / "acc.json"
    path.write_text(json.dumps(doc))
    return str(path)


def test_report_file_must_be_finished(tmp_path):
    ok = [{"group": 0, "status": "pass", "failed": 0, "images": 100}, {"group": 1, "status": "fail", "failed": 1, "images": 100}]
    with pytest.raises(ValueError, match=r"group\(s\) \[1\] are not reviewed in full"):
        A.load(_report(ok, tmp_path))
    ok[1]["reviewed_in_full"] = True
    block = A.manifest_block(A.load(_report(ok, tmp_path)))
    assert (block["groups"], block["failed_groups"], block["sampled"], block["failed"], block["reviewed_in_full"]) == (2, 1, 20, 1, 100)
    assert block["upper_bound_95"] == pytest.approx(A.upper_bound(1, 20), abs=1e-6)
    text = "\n".join(A.card_lines(block))
    assert "95% upper bound" in text and f"{100 * block['upper_bound_95']:.2f}%" in text and "| 1 | 100 | 10 | 1 |" in text
    with pytest.raises(ValueError, match="still pending"):
        A.load(_report([{"group": 0, "status": "pending", "failed": 0}], tmp_path))
    (tmp_path / "x.json").write_text('{"kind": "other"}')
    with pytest.raises(ValueError, match="not an acceptance report"):
        A.load(str(tmp_path / "x.json"))
