"""One place that turns a run's seed into random state, so a seed fixes a run whatever the
process's hash seed (PYTHONHASHSEED), the loader's worker count or the order set-up code ran in.

- `seed_everything` seeds Python, numpy and torch; trainers call it right before the model is
  built, after data set-up (which may build networks of its own, e.g. the image CNN).
- `derive_seed(*parts)` mixes integers and strings into a 32-bit seed with sha256: Python's
  `hash()` of a string changes with every process, so it must never seed anything.
- `epoch_seed(seed, epoch)`: the torch seed of one epoch (dropout), so a run resumed at an epoch
  boundary draws what the uninterrupted run drew.
"""

from __future__ import annotations

import hashlib
import os
import random

import numpy as np


def derive_seed(*parts: int | str) -> int:
    """A 32-bit seed from ints and strings, the same in every process."""
    text = "\x1f".join(f"{type(p).__name__}:{p}" for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big")


def epoch_seed(seed: int, epoch: int) -> int:
    return seed * 100_003 + epoch


def seed_everything(seed: int, deterministic: bool = True) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False


def set_threads(threads: int | None) -> None:
    """`threads` from a config (0 or None: torch's default)."""
    if threads:
        import torch

        torch.set_num_threads(int(threads))
