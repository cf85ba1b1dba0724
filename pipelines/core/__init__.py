"""The build core shared by every data set: see docs/architecture.md for the design."""

import logging as _logging


class _DropOptionalClientNotices(_logging.Filter):
    """Beam warns on the root logger, at import, that its optional GCP clients are absent; that is
    expected without the `dataflow` extra and would otherwise be the first line of every build."""

    def filter(self, record: _logging.LogRecord) -> bool:
        return "apitools not found" not in record.getMessage()


if not any(isinstance(f, _DropOptionalClientNotices) for f in _logging.getLogger().filters):
    _logging.getLogger().addFilter(_DropOptionalClientNotices())
