"""Progress bars for training and feature extraction: on a terminal only, as the build's
progress is, so a redirected log (`mmdial train ... > log 2>&1`) holds the per-epoch lines and
not hundreds of carriage-return updates. `train.progress=false` (or `mmdial train --no-progress`)
turns them off on a terminal too."""

from __future__ import annotations

import sys


def on_terminal(stream=None) -> bool:
    stream = stream or sys.stderr
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def bar(total: int, desc: str, enabled: bool, unit: str = "step"):
    """A tqdm bar on stderr when `enabled` and stderr is a terminal, else None."""
    if not (enabled and on_terminal()):
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, leave=False)
