"""Group acceptance check (JDDC 2.1 paper, section 3.3).

Sessions are grouped by 100 in push order (`mmdial_group` of each task; images for the privacy
check). Once every task of a group is annotated, a seeded 10% random sample of its tasks goes to a
review project (`<project>-qc`), where a reviewer accepts or rejects each sampled annotation. A
group passes when the accepted share of its sample is at least 90%; a failing group is re-queued:
its tasks get round r+1, their current annotations are recorded as superseded (kept as history,
no longer exported) and they are marked unlabeled so annotators get them again. The new round is
sampled afresh.

Draw: `random.Random(f"{seed}:{group}:{round}").sample(sorted task keys, ceil(fraction * n))`; the
seed, the group size and the sampled annotation ids are stored in each review task (and in the
`qc_samples` table of a pull).

Operating characteristic: with a sample of n = 10 from a group of N = 100 and pass mark c = 9
accepted, a group whose true acceptance is p passes with
- P_binom(p) = sum_{k>=c} C(n,k) p^k (1-p)^(n-k)            (items accepted independently with prob. p)
- P_hyper(p) = sum_{k>=c} C(K,k) C(N-K,n-k) / C(N,n), K = round(pN)  (exactly K of the N are acceptable)
both computed exactly (integers and fractions), shown for p = 0.80, 0.81, ..., 1.00.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

from annotation import results as R
from annotation import versions as V
from annotation.client import LSClient
from annotation.flows import get_flow
from annotation.importer import import_specs
from annotation.projects import ProjectInfo, ensure_project, find_project, open_project
from annotation.tasks import GROUP_FIELD, KEY_FIELD, PREFILL_MODEL_VERSION, ROUND_FIELD, SUPERSEDED_FIELD, UNIT_FIELD, TaskSpec
from annotation.versions import current_annotation

REVIEW_SUFFIX = "-qc"
REVIEW_FLOW = "qc_review"
DEFAULT_FRACTION = Fraction(1, 10)
DEFAULT_THRESHOLD = Fraction(9, 10)
ACCEPT, REJECT = "accept", "reject"

REVIEW_CONFIG = (
    "<View>\n"
    '  <Header value="QC group $qc_group, round $qc_round: accept or reject this annotation"/>\n'
    '  <HyperText name="item" value="$html"/>\n'
    '  <Image name="images" valueList="$images"/>\n'
    '  <Choices name="verdict" toName="item" choice="single" required="true">\n'
    f'    <Choice value="{ACCEPT}"/>\n'
    f'    <Choice value="{REJECT}"/>\n'
    "  </Choices>\n"
    '  <TextArea name="comment" toName="item" maxSubmissions="1" editable="true" rows="2" placeholder="why (for rejections)"/>\n'
    "</View>\n"
)


# -- the rule's operating characteristic ----------------------------------------------------
def sample_size(group_tasks: int, fraction: Fraction = DEFAULT_FRACTION) -> int:
    return max(1, min(group_tasks, math.ceil(Fraction(fraction) * group_tasks)))


def pass_mark(n: int, threshold: Fraction = DEFAULT_THRESHOLD) -> int:
    """Fewest accepted items out of n that reach the threshold (9 of 10 at 90%)."""
    return math.ceil(Fraction(threshold) * n)


def p_pass_binomial(p: Fraction, n: int, c: int) -> Fraction:
    p = Fraction(p)
    return sum((math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(c, n + 1)), Fraction(0))


def p_pass_hypergeometric(p: Fraction, group: int, n: int, c: int) -> Fraction:
    good = int(round(Fraction(p) * group))
    total = math.comb(group, n)
    return Fraction(sum(math.comb(good, k) * math.comb(group - good, n - k) for k in range(c, n + 1)), total)


def operating_characteristic(
    group: int = 100, fraction: Fraction = DEFAULT_FRACTION, threshold: Fraction = DEFAULT_THRESHOLD
) -> list[dict]:
    n = sample_size(group, fraction)
    c = pass_mark(n, threshold)
    rows = []
    for i in range(80, 101):
        p = Fraction(i, 100)
        rows.append(
            {
                "p": float(p),
                "sample": n,
                "pass_mark": c,
                "p_pass_binomial": float(p_pass_binomial(p, n, c)),
                "p_pass_hypergeometric": float(p_pass_hypergeometric(p, group, n, c)),
            }
        )
    return rows


def draw(task_keys: list[str], seed: int, group: int, round_: int, fraction: Fraction = DEFAULT_FRACTION) -> list[str]:
    rng = random.Random(f"{seed}:{group}:{round_}")
    keys = sorted(task_keys)
    return sorted(rng.sample(keys, sample_size(len(keys), fraction)))


# -- server side ----------------------------------------------------------------------------
def review_title(project: str) -> str:
    return project + REVIEW_SUFFIX


def _groups(tasks: list[dict]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for t in tasks:
        if KEY_FIELD in t["data"]:
            out.setdefault(int(t["data"].get(GROUP_FIELD) or 0), []).append(t)
    return dict(sorted(out.items()))


def _group_round(tasks: list[dict]) -> int:
    return min(int(t["data"].get(ROUND_FIELD) or 1) for t in tasks)


def _review_project(client: LSClient, project: ProjectInfo, create: bool) -> ProjectInfo | None:
    title = review_title(project.title)
    if not create:
        return find_project(client, title)
    info, _ = ensure_project(client, title, REVIEW_FLOW, {}, REVIEW_CONFIG, project.group_size)
    return info


def sample(client: LSClient, project: str, seed: int = 0, fraction: Fraction = DEFAULT_FRACTION, include_partial: bool = False) -> dict:
    """Sample every fully annotated group not yet sampled in its current round; push the review tasks."""
    info = open_project(client, project)
    flow = get_flow(info.flow)
    tasks = client.list_tasks(info.id)
    review = _review_project(client, info, create=True)
    existing = client.list_tasks(review.id)
    sampled = {(int(t["data"]["qc_group"]), int(t["data"]["qc_round"])) for t in existing}
    groups = _groups(tasks)
    last = max(groups) if groups else -1
    specs: list[TaskSpec] = []
    summary = {"project": project, "seed": seed, "fraction": float(fraction), "sampled": [], "skipped": {}}
    for g, gtasks in groups.items():
        rnd = _group_round(gtasks)
        if (g, rnd) in sampled:
            summary["skipped"][g] = "already sampled"
            continue
        sessions = {t["data"].get("mmdial_session") for t in gtasks}
        if g == last and len(sessions) < info.group_size and not include_partial:
            summary["skipped"][g] = f"partial group ({len(sessions)} of {info.group_size}); use --include-partial"
            continue
        current = {t["data"][KEY_FIELD]: (t, current_annotation(t)) for t in gtasks}
        todo = sum(1 for _, a in current.values() if a is None)
        if todo:
            summary["skipped"][g] = f"{todo} task(s) not annotated yet"
            continue
        chosen = draw(list(current), seed, g, rnd, fraction)
        for key in chosen:
            task, ann = current[key]
            lines = flow.export(task["data"], ann["result"], info.params)
            data = {
                "html": flow.review_html(task["data"], lines.lines or [{"problems": lines.problems}]),
                "images": flow.review_images(task["data"], ann["result"], client.image_store()),
                "qc_group": g,
                "qc_round": rnd,
                "seed": seed,
                "group_tasks": len(gtasks),
                "target_key": key,
                "target_unit": task["data"].get(UNIT_FIELD, ""),
                "target_annotation": int(ann["id"]),
            }
            identity = {k: data[k] for k in ("qc_group", "qc_round", "target_key", "target_annotation")}
            specs.append(TaskSpec(REVIEW_FLOW, f"{g}:{rnd}:{key}", str(g), identity, data))
        summary["sampled"].append({"group": g, "round": rnd, "group_tasks": len(gtasks), "sample": len(chosen), "task_keys": chosen})
    store = client.image_store()
    if store is not None and any(store.owns(i) for s in specs for i in s.data["images"]):
        store.attach(client, review.id)
    import_specs(client, review.id, specs, lambda s: int(s.data["qc_group"]))
    return summary


def _verdicts(review_tasks: list[dict], users: dict[int, str]) -> dict[tuple[int, int, str], dict]:
    """(group, round, target key) -> the latest verdict on it."""
    out = {}
    for t in review_tasks:
        d = t["data"]
        best = None
        for a in t.get("annotations") or []:
            v = R.choice_of(a.get("result") or [], "verdict")
            if a.get("was_cancelled") or v not in ([ACCEPT], [REJECT]):
                continue
            if best is None or (str(a.get("updated_at")), a["id"]) > (str(best["updated_at"]), best["id"]):
                best = {
                    **a,
                    "accepted": v == [ACCEPT],
                    "reviewer": users.get(a.get("completed_by"), str(a.get("completed_by"))),
                    "comment": R.text_of(a.get("result") or [], "comment"),
                }
        if best is not None:
            out[(int(d["qc_group"]), int(d["qc_round"]), d["target_key"])] = best
    return out


def report(client: LSClient, project: str, threshold: Fraction = DEFAULT_THRESHOLD, fraction: Fraction = DEFAULT_FRACTION) -> dict:
    """Per group: tasks, done, round, and per sampled round the acceptance rate and pass/fail/pending."""
    info = open_project(client, project)
    tasks = client.list_tasks(info.id)
    review = _review_project(client, info, create=False)
    review_tasks = client.list_tasks(review.id) if review else []
    verdicts = _verdicts(review_tasks, client.users()) if review_tasks else {}
    rounds: dict[tuple[int, int], dict] = {}
    for t in review_tasks:
        d = t["data"]
        r = rounds.setdefault((int(d["qc_group"]), int(d["qc_round"])), {"seed": d["seed"], "sample": 0, "reviewed": 0, "accepted": 0})
        r["sample"] += 1
        v = verdicts.get((int(d["qc_group"]), int(d["qc_round"]), d["target_key"]))
        if v is not None:
            r["reviewed"] += 1
            r["accepted"] += int(v["accepted"])
    groups = []
    for g, gtasks in _groups(tasks).items():
        rnd = _group_round(gtasks)
        entry = {
            "group": g,
            "tasks": len(gtasks),
            "done": sum(1 for t in gtasks if current_annotation(t) is not None),
            "round": rnd,
            "rounds": [],
        }
        for (gg, rr), r in sorted(rounds.items()):
            if gg != g:
                continue
            rate = Fraction(r["accepted"], r["reviewed"]) if r["reviewed"] else None
            status = "pending" if r["reviewed"] < r["sample"] else ("pass" if rate >= threshold else "fail")
            entry["rounds"].append(
                {
                    "round": rr,
                    "seed": r["seed"],
                    "sample": r["sample"],
                    "reviewed": r["reviewed"],
                    "accepted": r["accepted"],
                    "rate": None if rate is None else float(rate),
                    "status": status,
                    "requeued": status == "fail" and rnd > rr,
                }
            )
        latest = entry["rounds"][-1] if entry["rounds"] else None
        if latest is None or latest["round"] < rnd:
            entry["qc"] = "not sampled" if rnd == 1 else f"re-annotation (round {rnd})"
        elif latest["status"] == "fail":
            entry["qc"] = "fail: requeued" if latest["requeued"] else "fail: to requeue"
        else:
            entry["qc"] = latest["status"]
        groups.append(entry)
    return {
        "project": project,
        "flow": info.flow,
        "group_size": info.group_size,
        "threshold": float(threshold),
        "fraction": float(fraction),
        "groups": groups,
        "operating_characteristic": operating_characteristic(info.group_size, fraction, threshold),
    }


def requeue(client: LSClient, project: str, threshold: Fraction = DEFAULT_THRESHOLD) -> dict:
    """Re-queue every group whose latest sampled round failed; resumable (tasks already moved are finished, not redone).

    Per task: every annotation is recorded in the task's `mmdial_superseded` (round, authors, times,
    result: the history a pull rebuilds), the task moves to round r+1, the rejected answer becomes a
    prediction (the re-annotator starts from it and fixes it), and the annotations are deleted from
    Label Studio: only then does the task stop counting as labeled against the project's overlap,
    so that "next task" serves it again (setting `is_labeled` false is undone by Label Studio itself).
    """
    rep = report(client, project, threshold)
    info = open_project(client, project)
    tasks = _groups(client.list_tasks(info.id))
    # the editor pre-fills only predictions of the project's model version (mmdial's, unless someone changed it)
    model_version = (client.get_project(info.id) or {}).get("model_version") or PREFILL_MODEL_VERSION
    done = {}
    for entry in rep["groups"]:
        failed = [r for r in entry["rounds"] if r["status"] == "fail"]
        if not failed or failed[-1] is not entry["rounds"][-1]:
            continue
        rnd = failed[-1]["round"]
        moved = 0
        for t in tasks.get(entry["group"], []):
            data = dict(t["data"])
            if int(data.get(ROUND_FIELD) or 1) <= rnd:
                cur = current_annotation(t)
                sup = dict(V.superseded(data))
                for a in t.get("annotations") or []:
                    sup.setdefault(str(a["id"]), V.record_of(a, rnd))
                data[SUPERSEDED_FIELD] = sup
                data[ROUND_FIELD] = rnd + 1
                if cur is not None and cur.get("result"):
                    data["mmdial_prefill_source"] = f"round {rnd} answer, rejected in QC: fix it"
                client.update_task(t["id"], data=data)  # recorded before anything is deleted
                if cur is not None and cur.get("result"):
                    client.create_prediction(t["id"], cur["result"], model_version)
                moved += 1
            for a in t.get("annotations") or []:  # also finishes a re-queue interrupted after the record
                if V.set_aside(data, a):
                    client.delete_annotation(a["id"])
        if moved:
            done[entry["group"]] = {"from_round": rnd, "to_round": rnd + 1, "tasks": moved}
    return {"project": project, "requeued": done}


def qc_tables(client: LSClient, info: ProjectInfo) -> dict[str, list[dict]]:
    """qc_samples and qc_reviews rows for a pull (empty when the project has no review project)."""
    review = _review_project(client, info, create=False)
    if review is None:
        return {}
    review_tasks = client.list_tasks(review.id)
    users = client.users()
    samples, reviews = [], []
    for t in review_tasks:
        d = t["data"]
        samples.append(
            {
                "project": info.title,
                "qc_group": int(d["qc_group"]),
                "qc_round": int(d["qc_round"]),
                "seed": int(d["seed"]),
                "group_tasks": int(d["group_tasks"]),
                "task_key": d["target_key"],
                "unit": d.get("target_unit", ""),
                "annotation_id": int(d["target_annotation"]),
            }
        )
    for (g, r, key), v in _verdicts(review_tasks, users).items():
        target = next(t["data"] for t in review_tasks if t["data"]["target_key"] == key and int(t["data"]["qc_round"]) == r)
        reviews.append(
            {
                "project": info.title,
                "qc_group": g,
                "qc_round": r,
                "task_key": key,
                "annotation_id": int(target["target_annotation"]),
                "reviewer": v["reviewer"],
                "accepted": bool(v["accepted"]),
                "reviewed_at": str(v.get("updated_at") or v.get("created_at")).replace("+00:00", "Z"),
                "comment": v.get("comment"),
            }
        )
    return {"qc_samples": samples, "qc_reviews": reviews}
