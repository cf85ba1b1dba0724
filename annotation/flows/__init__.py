"""The annotation flows, by name (`mmdial annotate push FLOW`)."""

from __future__ import annotations

from annotation.flows.base import ExportOutcome, Flow
from annotation.flows.dialog_state import DialogStateFlow
from annotation.flows.discourse import DiscourseFlow
from annotation.flows.privacy_check import PrivacyCheckFlow
from annotation.flows.query_rewrite import QueryRewriteFlow
from annotation.flows.summary import SummaryFlow

FLOWS: dict[str, Flow] = {f.name: f for f in (DialogStateFlow(), QueryRewriteFlow(), DiscourseFlow(), SummaryFlow(), PrivacyCheckFlow())}


def get_flow(name: str) -> Flow:
    key = name.replace("-", "_")
    if key not in FLOWS:
        raise KeyError(f"unknown flow {name!r}; known: {', '.join(sorted(FLOWS))}")
    return FLOWS[key]


__all__ = ["FLOWS", "ExportOutcome", "Flow", "get_flow"]
