"""Acceptance check of the auto-masked images (issue 20, item 5), on the `privacy_check` flow.

JDDC 2.1 had people check every image automatic masking left unmasked (the `privacy_check` flow
does that). This checks the images masking *did* mask, with the group acceptance rule of
annotation.qc (its seeded draw, sample size and pass mark), the masker standing in for the annotator:

1. `sample` (`mmdial annotate push privacy_check --from MASKED_BUILD --project P --sample-masked`):
   the build's images with `privacy_status` masked, in image_id order, are cut into groups of 100
   (the last group holds the rest and is sampled too: the build is final, the group cannot grow);
   `qc.draw(ids, seed, group, 1, 10%)` picks ceil(10%) of each group, which become privacy_check
   tasks of round 1 in QC group `group`. The group layout (seed, fraction, group sizes, the sha256 of
   the sorted masked ids) is fixed in the project's mmdial state when the project is created.
2. Reviewers box what masking left readable ("private information boxed": residual personal data)
   or mark the image clean.
3. `report` (`mmdial annotate qc report --project P [--json F]`): a group passes when all of its
   sample is clean (`qc.pass_mark(n, 1)`: zero tolerance, one residual fails it), fails as soon as a
   reviewed sampled image has residual data, and is pending otherwise; plus the residual estimate
   (pipelines.privacy.acceptance: rate and Clopper-Pearson 95% upper bound, per group and overall).
4. `requeue` (`mmdial annotate qc requeue --project P --from MASKED_BUILD`): every image of a failed
   group that is not a task yet is pushed as a round-2 task (the whole group goes to review; the
   sampled images keep their answers). Idempotent and resumable: a push creates only what is missing.
5. `pull` writes `privacy_manual.jsonl` as for any privacy_check project; `mmdial mask-manual
   --manual ... --acceptance F` applies the boxes and writes the estimate into the final build's
   manifest (`privacy.acceptance`) and card.
"""

from __future__ import annotations

from fractions import Fraction

import pyarrow as pa

from annotation import qc
from annotation.client import LSClient
from annotation.flows import get_flow
from annotation.projects import SyncError, find_project, open_project
from annotation.tasks import GROUP_FIELD, KEY_FIELD, ROUND_FIELD
from annotation.versions import current_annotation
from pipelines.privacy import acceptance as stats
from pipelines.privacy.acceptance import ids_digest

FLOW = "privacy_check"
PARAM = "acceptance"  # the key of the project's params that makes it a masked-image acceptance project
SAMPLE_ROUND, FULL_REVIEW_ROUND = 1, 2
ZERO_TOLERANCE = Fraction(1)  # every sampled image must be clean
MASKED = "masked"


def masked_ids(tables: dict[str, pa.Table]) -> list[str]:
    """The auto-masked images of a build (`privacy_status` masked), distinct, in image_id order."""
    images = tables.get("images")
    if images is None or "privacy_status" not in images.column_names:
        raise SyncError("no images table with privacy_status in --from (expected a `mmdial mask` output)")
    cols = images.select(["image_id", "privacy_status"]).to_pydict()
    return sorted({i for i, s in zip(cols["image_id"], cols["privacy_status"], strict=True) if s == MASKED and i})


def groups_of(ids: list[str], group_size: int) -> dict[int, list[str]]:
    """Consecutive groups of `group_size` of the sorted ids (the last one holds the rest)."""
    return {g: ids[i : i + group_size] for g, i in enumerate(range(0, len(ids), group_size))}


def is_acceptance(info) -> bool:
    return info is not None and info.flow == FLOW and PARAM in (info.params or {})


def _layout(client: LSClient, project: str, tables: dict[str, pa.Table]) -> tuple[dict, dict[int, list[str]]]:
    """The project's fixed layout and the build's groups; the build must be the one the project samples."""
    info = open_project(client, project)
    if not is_acceptance(info):
        raise SyncError(f"project {project!r} is not a masked-image acceptance project (`push privacy_check --sample-masked`)")
    acc = info.params[PARAM]
    ids = masked_ids(tables)
    if ids_digest(ids) != acc["masked_ids_sha256"]:
        raise SyncError(
            f"--from holds {len(ids)} auto-masked image(s) that are not the {acc['images']} the project {project!r} samples"
            " (a different build?)"
        )
    return acc, groups_of(ids, int(acc["group_size"]))


def _push(client, tables, project, group: dict[str, int], round_: int, group_size: int, params: dict | None = None, batch_size: int = 100):
    """Push the images of `group` (image_id -> QC group) as privacy_check tasks of round `round_`."""
    from annotation.sync import push

    options = {"candidates": [{"image_id": i} for i in sorted(group)]}
    if params is not None:
        options["params"] = params
    return push(
        client,
        FLOW,
        tables,
        project,
        options,
        batch_size=batch_size,
        group_size=group_size,
        group_of=lambda s: group[s.unit],
        round_of=lambda s: round_,
    )


def sample(
    client: LSClient,
    tables: dict[str, pa.Table],
    project: str,
    seed: int = 0,
    fraction: Fraction = qc.DEFAULT_FRACTION,
    group_size: int = 100,
    batch_size: int = 100,
) -> dict:
    """Push the seeded sample of every group of auto-masked images (round 1); repeatable."""
    if group_size < 1:
        raise SyncError("--group-size must be at least 1")
    ids = masked_ids(tables)
    if not ids:
        raise SyncError("no auto-masked images (privacy_status masked) in --from: nothing to sample")
    info = find_project(client, project)
    if info is not None:  # the layout is fixed at creation: a second push draws the same sample
        acc, groups = _layout(client, project, tables)
        seed, fraction = int(acc["seed"]), Fraction(acc["fraction"])
        params = None
    else:
        groups = groups_of(ids, group_size)
        acc = {
            "seed": seed,
            "fraction": str(Fraction(fraction)),
            "group_size": group_size,
            "images": len(ids),
            "masked_ids_sha256": ids_digest(ids),
            "group_images": [len(groups[g]) for g in sorted(groups)],
        }
        params = {**get_flow(FLOW).params(tables), PARAM: acc}
    chosen = {i: g for g, members in groups.items() for i in qc.draw(members, seed, g, SAMPLE_ROUND, fraction)}
    rep = _push(client, tables, project, chosen, SAMPLE_ROUND, int(acc["group_size"]), params, batch_size)
    return {
        **rep.summary(),
        "seed": seed,
        "fraction": float(Fraction(fraction)),
        "images": len(ids),
        "groups": len(groups),
        "sampled": len(chosen),
        "sample_per_group": {g: sum(1 for v in chosen.values() if v == g) for g in sorted(groups)},
    }


def _verdict(flow, task: dict, params: dict) -> bool | None:
    """True: residual personal data boxed; False: clean; None: no valid answer yet."""
    ann = current_annotation(task)
    if ann is None:
        return None
    out = flow.export(task["data"], ann.get("result") or [], params)
    if not out.lines:
        return None
    return out.lines[0]["status"] == MASKED


def report(client: LSClient, project: str) -> dict:
    """Per group: sample, reviewed, failed, status (pass/fail/pending), requeued, reviewed in full; the estimate."""
    info = open_project(client, project)
    if not is_acceptance(info):
        raise SyncError(f"project {project!r} is not a masked-image acceptance project (`push privacy_check --sample-masked`)")
    acc = info.params[PARAM]
    flow = get_flow(FLOW)
    by_group: dict[int, list[dict]] = {}
    for t in client.list_tasks(info.id):
        if KEY_FIELD in t["data"]:
            by_group.setdefault(int(t["data"][GROUP_FIELD]), []).append(t)
    groups, finished = [], []
    for g, size in enumerate(acc["group_images"]):
        tasks = by_group.get(g, [])
        verdicts = [(int(t["data"].get(ROUND_FIELD) or 1), _verdict(flow, t, info.params)) for t in tasks]
        sample_v = [v for r, v in verdicts if r == SAMPLE_ROUND]
        n, reviewed = len(sample_v), sum(1 for v in sample_v if v is not None)
        failed = sum(1 for v in sample_v if v)
        if n and n - failed < qc.pass_mark(n, ZERO_TOLERANCE):  # the pass mark is out of reach: fail at once
            status = "fail"
        elif reviewed < n or n == 0:
            status = "pending"
        else:
            status = "pass"
        requeued = any(r == FULL_REVIEW_ROUND for r, _ in verdicts)
        answered = sum(1 for _, v in verdicts if v is not None)
        entry = {
            "group": g,
            "images": size,
            "sample": n,
            "reviewed": reviewed,
            "failed": failed,
            "status": status,
            "requeued": requeued,
            "tasks": len(tasks),
            "answered": answered,
            "residual_found": sum(1 for _, v in verdicts if v),
            "reviewed_in_full": requeued and len(tasks) == size and answered == size,
        }
        if status == "fail":
            entry["qc"] = "reviewed in full" if entry["reviewed_in_full"] else ("fail: in review" if requeued else "fail: to requeue")
        else:
            entry["qc"] = status
        groups.append(entry)
        if reviewed == n and n:
            finished.append({"group": g, "images": size, "sampled": n, "failed": failed})
    return {
        "kind": stats.KIND,
        "project": project,
        "flow": FLOW,
        "seed": acc["seed"],
        "fraction": float(Fraction(acc["fraction"])),
        "group_size": acc["group_size"],
        "images": acc["images"],
        "masked_ids_sha256": acc["masked_ids_sha256"],
        "pass_rule": "every sampled image clean (qc.pass_mark(n, 1))",
        "groups": groups,
        "estimate": stats.estimate(finished),
    }


def requeue(client: LSClient, project: str, tables: dict[str, pa.Table], batch_size: int = 100) -> dict:
    """Push every image of each failed group for review (round 2); the sampled ones keep their answers."""
    acc, groups = _layout(client, project, tables)
    rep = report(client, project)
    failed = [e["group"] for e in rep["groups"] if e["status"] == "fail"]
    done: dict[int, dict] = {}
    if failed:
        members = {i: g for g in failed for i in groups[g]}
        pushed = _push(client, tables, project, members, FULL_REVIEW_ROUND, int(acc["group_size"]), batch_size=batch_size)
        after = {e["group"]: e for e in report(client, project)["groups"]}
        for g in failed:
            done[g] = {"images": len(groups[g]), "tasks": after[g]["tasks"], "to_review": after[g]["tasks"] - after[g]["answered"]}
        created = pushed.created
    else:
        created = 0
    return {"project": project, "requeued": done, "created": created}
