"""Tables of the annotation sync and its acceptance check (written by `mmdial annotate pull`).

The layers themselves leave as the docs/exchange-formats.md JSONL files the pipelines merge; these tables keep
what a build does not need but an audit does: which tasks exist (content-hash identity), every
annotation version with its annotator, time and lead time (history, never overwritten), and the
QC samples and reviews with their seeds.
"""

from __future__ import annotations

import pyarrow as pa

from schemas.registry import Column, Table, register

STR = pa.string()
I32 = pa.int32()
I64 = pa.int64()
GROUP = "annotation"


def _project() -> Column:
    return Column("project", STR, "Label Studio project title.", nullable=False)


def _task_key() -> Column:
    return Column(
        "task_key", STR, "Content hash of the task (sha256 of flow and what the task shows): its identity across pushes.", nullable=False
    )


ANNOTATION_TASKS = register(
    Table(
        name="annotation_tasks",
        version=1,
        doc="One row per task of a project.",
        columns=(
            _project(),
            Column("flow", STR, "dialog_state, query_rewrite, discourse, summary or privacy_check.", nullable=False),
            _task_key(),
            Column("unit", STR, "What the task annotates: `dialog_id:turn_index`, a session id or an image id.", nullable=False),
            Column("session", STR, "What QC groups count: the session (dialog) id, or the image id for privacy_check.", nullable=False),
            Column("qc_group", I32, "QC group: sessions in push order, 100 per group (0-based).", nullable=False),
            Column("qc_round", I32, "Annotation round: 1, plus one per QC re-queue of the group.", nullable=False),
            Column("ls_task_id", I64, "Label Studio task id.", nullable=False),
            Column("status", STR, "done (a current annotation exists), todo, or requeued (awaiting re-annotation).", nullable=False),
            Column("identity", STR, "JSON of the task's identifying content (what the hash covers, minus the flow).", nullable=False),
        ),
        sort_key=("task_key",),
        group=GROUP,
    )
)

ANNOTATION_HISTORY = register(
    Table(
        name="annotation_history",
        version=1,
        doc="Every annotation version seen on the server, oldest first per task; kept across pulls (Label Studio overwrites an edited annotation, the history here does not).",
        columns=(
            _project(),
            Column("flow", STR, "Flow name.", nullable=False),
            _task_key(),
            Column("unit", STR, "As in annotation_tasks.", nullable=False),
            Column("annotation_id", I64, "Label Studio annotation id.", nullable=False),
            Column("version", I32, "1-based position of this version among the task's versions (by time).", nullable=False),
            Column("annotator", STR, "E-mail of the user who made it (or the user id when unknown)."),
            Column("created_at", STR, "ISO-8601 time the annotation was first submitted."),
            Column("updated_at", STR, "ISO-8601 time of this version.", nullable=False),
            Column("lead_time_s", pa.float64(), "Seconds the annotator spent (Label Studio lead_time)."),
            Column("was_cancelled", pa.bool_(), "The annotator skipped the task.", nullable=False),
            Column("qc_round", I32, "Round it belongs to (annotations set aside by a re-queue keep their older round).", nullable=False),
            Column("current", pa.bool_(), "This is the version the export uses for the task.", nullable=False),
            Column("result_sha256", STR, "sha256 of the canonical JSON of `result`.", nullable=False),
            Column("result", STR, "The Label Studio result list as JSON.", nullable=False),
        ),
        sort_key=("task_key", "version"),
        group=GROUP,
    )
)

QC_SAMPLES = register(
    Table(
        name="qc_samples",
        version=1,
        doc="Items drawn for acceptance review: per group and round a seeded random sample of 10% of its tasks.",
        columns=(
            _project(),
            Column("qc_group", I32, "QC group.", nullable=False),
            Column("qc_round", I32, "Annotation round sampled.", nullable=False),
            Column("seed", I64, "Base seed; the draw uses random.Random(f'{seed}:{group}:{round}').", nullable=False),
            Column("group_tasks", I32, "Tasks in the group when it was sampled.", nullable=False),
            _task_key(),
            Column("unit", STR, "As in annotation_tasks.", nullable=False),
            Column("annotation_id", I64, "The annotation under review.", nullable=False),
        ),
        sort_key=("qc_group", "qc_round", "task_key"),
        group=GROUP,
    )
)

QC_REVIEWS = register(
    Table(
        name="qc_reviews",
        version=1,
        doc="Reviewer verdicts on sampled items (the latest review of each item counts).",
        columns=(
            _project(),
            Column("qc_group", I32, "QC group.", nullable=False),
            Column("qc_round", I32, "Annotation round reviewed.", nullable=False),
            _task_key(),
            Column("annotation_id", I64, "The annotation reviewed.", nullable=False),
            Column("reviewer", STR, "E-mail of the reviewer."),
            Column("accepted", pa.bool_(), "Accepted (true) or rejected (false).", nullable=False),
            Column("reviewed_at", STR, "ISO-8601 time of the verdict.", nullable=False),
            Column("comment", STR, "Reviewer's comment, if any."),
        ),
        sort_key=("qc_group", "qc_round", "task_key"),
        group=GROUP,
    )
)
