"""Wall and CPU seconds per launcher phase (plan, shards, checks, card, publish), recorded in the
manifest's `run.phases` and printed by `mmdial inspect`, so a user sees where a build's time goes.

CPU seconds are this process's plus those of its finished child processes (the local runner's
worker processes are children and are reaped when the pipeline ends), so for `shards` they
include the workers' CPU; remote workers (Dask, Dataflow, ...) are not counted.
"""

from __future__ import annotations

import contextlib
import os
import time

ORDER = ("plan", "shards", "checks", "card", "publish")


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class Phases:
    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = {}

    @contextlib.contextmanager
    def phase(self, name: str):
        wall, cpu = time.perf_counter(), _cpu()
        try:
            yield
        finally:
            acc = self.seconds.setdefault(name, [0.0, 0.0])
            acc[0] += time.perf_counter() - wall
            acc[1] += _cpu() - cpu

    def as_dict(self) -> dict[str, dict[str, float]]:
        names = [n for n in ORDER if n in self.seconds] + sorted(set(self.seconds) - set(ORDER))
        return {n: {"seconds": round(self.seconds[n][0], 3), "cpu_seconds": round(self.seconds[n][1], 3)} for n in names}


def describe(phases: dict[str, dict[str, float]]) -> str:
    """One line: `plan 0.41s (cpu 0.38s) · shards 2.10s (cpu 3.90s) · ...`."""
    names = [n for n in ORDER if n in phases] + sorted(set(phases) - set(ORDER))  # the manifest's JSON sorts keys
    return " · ".join(f"{n} {phases[n]['seconds']:.2f}s (cpu {phases[n]['cpu_seconds']:.2f}s)" for n in names)
