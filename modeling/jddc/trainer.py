"""The JDDC response / rewrite tasks for the one training loop (`modeling.core.loop.fit`).

A task gives a model whose `forward(batch)` returns `(loss, parts)` and a list of batches per
epoch (`batches(epoch)`, the data order seeded by (seed, epoch)); each DDP rank takes every
world-th batch. What is the tasks' own: AdamW without weight decay on biases and norms.
"""

from __future__ import annotations

from collections.abc import Callable


class JddcTrainable:
    def __init__(self, name: str, cfg: dict, batches: Callable[[int], list[dict]], rank: int = 0, world: int = 1):
        self.name, self.cfg, self._batches, self.rank, self.world = name, cfg, batches, rank, world
        self._first = batches(0)

    def optimizer(self, params):
        import torch

        decay = [p for p in params if p.ndim >= 2]
        no_decay = [p for p in params if p.ndim < 2]
        wd = self.cfg["train"]["weight_decay"]
        return torch.optim.AdamW(
            [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}], lr=self.cfg["train"]["lr"]
        )

    def steps_per_epoch(self) -> int:
        return max(1, len(self._first) // self.world)

    def batches(self, epoch: int, skip: int):
        every = self._first if epoch == 0 else self._batches(epoch)
        return every[self.rank :: self.world][skip : self.steps_per_epoch()]

    @staticmethod
    def batch_size(batch: dict) -> int:
        return len(batch["ids"])

    def validate(self, model, epoch: int):
        return {}, None


class ShuffledExamples:
    """The data half of a trainable over an in-memory list: `items` cut into batches of
    `train.batch_size`, shuffled per (seed, epoch), each turned into tensors by `collate(chunk)`."""

    cfg: dict
    seed: int
    items: list

    def collate(self, chunk: list) -> dict:
        raise NotImplementedError

    def steps_per_epoch(self) -> int:
        return -(-len(self.items) // self.cfg["train"]["batch_size"])

    def batches(self, epoch: int, skip: int):
        for idx in shuffled_batches(len(self.items), self.cfg["train"]["batch_size"], self.seed, epoch)[skip:]:
            yield self.collate([self.items[i] for i in idx])


def shuffled_batches(n: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Index lists of one epoch: a permutation seeded by (seed, epoch), cut into batches."""
    import numpy as np

    order = np.random.default_rng([seed, epoch]).permutation(n)
    return [order[i : i + batch_size].tolist() for i in range(0, n, batch_size)]
