"""Entry point of the local SDK worker processes: Beam's own worker, with its start-up chatter off.

Beam's `sdk_worker_main` logs its start-up at INFO to stderr in every worker process, which buries
a build's progress bar. Its records still reach the runner through the Fn API logging channel;
here only the copy printed to stderr is limited to errors ($MMDIAL_WORKER_LOG_LEVEL overrides).
"""

from __future__ import annotations

import logging
import os
import sys


class _StderrThreshold(logging.Filter):
    def __init__(self, level: int):
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level


def main() -> None:
    level = getattr(logging, os.environ.get("MMDIAL_WORKER_LOG_LEVEL", "ERROR").upper(), logging.ERROR)
    logging.basicConfig(stream=sys.stderr)  # Beam's later basicConfig calls become no-ops
    for handler in logging.getLogger().handlers:
        handler.addFilter(_StderrThreshold(level))
    logging.getLogger().setLevel(level)  # import-time warnings (optional GCP clients, ...)
    from apache_beam.runners.worker import sdk_worker_main

    sdk_worker_main.main(sys.argv)


if __name__ == "__main__":
    main()
