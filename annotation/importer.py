"""Import tasks the server lacks, in batches, surviving server restarts (shared by push and the QC sample).

Identity is the content hash in each task's `mmdial_key`: the keys on the server are read first, only
the missing tasks are sent, and when the connection drops mid-batch the keys are read again (a batch
may have been committed before the drop) before the rest is sent: nothing lost, nothing doubled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from annotation.client import LSClient, TransientError
from annotation.tasks import KEY_FIELD, TaskSpec

LOG = logging.getLogger("mmdial.annotation.importer")


def import_specs(
    client: LSClient,
    project_id: int,
    specs: list[TaskSpec],
    group_of: Callable[[TaskSpec], int],
    known: dict[str, dict] | None = None,
    batch_size: int = 100,
    max_recoveries: int = 50,
    on_batch: Callable[[int, int], None] | None = None,
    round_of: Callable[[TaskSpec], int] | None = None,
) -> tuple[int, int]:
    """Import the specs the server lacks, in batches; (created, recoveries). Survives server restarts.

    `round_of` gives a task's QC round at creation (default 1; the masked-image acceptance check
    creates a failed group's full review as round 2)."""
    known = _known_tasks(client, project_id) if known is None else known
    pending = [s for s in specs if s.key not in known]
    created = recoveries = batch_no = 0
    while pending:
        batch = pending[:batch_size]
        try:
            client.import_tasks(project_id, [s.payload(group_of(s), round_of(s) if round_of else 1) for s in batch])
        except TransientError as exc:
            recoveries += 1
            if recoveries > max_recoveries:
                raise
            LOG.warning("import interrupted (%s); waiting for the server, then re-reading what arrived", exc)
            client.whoami()  # retried until the server answers (or the deadline passes)
            known = _known_tasks(client, project_id)
            batch_keys = {s.key for s in batch}
            created += sum(1 for s in pending if s.key in known and s.key in batch_keys)  # committed before the drop
            pending = [s for s in pending if s.key not in known]
            continue
        created += len(batch)
        pending = pending[batch_size:]
        batch_no += 1
        if on_batch:
            on_batch(batch_no, len(pending))
    return created, recoveries


def _known_tasks(client: LSClient, project_id: int) -> dict[str, dict]:
    return {t["data"][KEY_FIELD]: t["data"] for t in client.list_tasks(project_id) if KEY_FIELD in t["data"]}
