"""Masking policy: what gets masked, with which thresholds, per image category.

A policy is YAML data (`default_policy.yaml`), merged with a user file and `dotted.key=value`
overrides, so a run is fully described by one dict. That dict (and its sha256) goes into every
audit record, which is what lets an audit replay a masking decision.

- `pii` (default): mask the spans the recognisers match, plus low-confidence digit lines.
- `all-text`: mask every text line.
- `category_overrides`: per image category (JDDC 2.1's 15 sub-categories, or any label a data set
  provides), replace `policy`, `thresholds` or `masking`; e.g. order and logistics screenshots
  mask all text.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from importlib import resources

import yaml

POLICIES = ("pii", "all-text")
OVERRIDABLE = ("policy", "thresholds", "masking")


def default_config() -> dict:
    text = resources.files("pipelines.privacy").joinpath("default_policy.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def merge(base: dict, extra: dict) -> dict:
    """Deep merge: dicts merge key by key, anything else replaces."""
    out = copy.deepcopy(base)
    for k, v in (extra or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def apply_override(cfg: dict, dotted: str) -> dict:
    """`masking.pad_ratio=0.2` -> cfg["masking"]["pad_ratio"] = 0.2 (the value is parsed as YAML)."""
    if "=" not in dotted:
        raise ValueError(f"override {dotted!r} is not key=value")
    key, raw = dotted.split("=", 1)
    value = yaml.safe_load(raw)
    node = cfg
    parts = key.strip().split(".")
    for p in parts[:-1]:
        if not isinstance(node.get(p), dict):
            node[p] = {}
        node = node[p]
    node[parts[-1]] = value
    return cfg


def load_config(path: str | None = None, overrides: list[str] | None = None, base: dict | None = None) -> dict:
    cfg = base if base is not None else default_config()
    if path:
        from pipelines.core import io

        cfg = merge(cfg, yaml.safe_load(io.read_bytes(path).decode("utf-8")) or {})
    for o in overrides or []:
        cfg = apply_override(cfg, o)
    validate(cfg)
    return cfg


def validate(cfg: dict) -> None:
    if cfg.get("policy") not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {cfg.get('policy')!r}")
    for cat, ov in (cfg.get("category_overrides") or {}).items():
        if not isinstance(ov, dict):
            raise ValueError(f"category_overrides[{cat!r}] must be a mapping")
        bad = set(ov) - set(OVERRIDABLE)
        if bad:
            raise ValueError(f"category_overrides[{cat!r}]: only {OVERRIDABLE} can be overridden, not {sorted(bad)}")
        if "policy" in ov and ov["policy"] not in POLICIES:
            raise ValueError(f"category_overrides[{cat!r}].policy must be one of {POLICIES}")
    for key, value in sorted((cfg.get("limits") or {}).items()):  # checked at start, not per image
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(f"limits.{key} must be a positive number, got {value!r}")
    fill = cfg.get("masking", {}).get("fill")
    if fill != "background" and not (isinstance(fill, list) and len(fill) == 3 and all(isinstance(c, int) and 0 <= c <= 255 for c in fill)):
        raise ValueError(f"masking.fill must be 'background' or [B, G, R] integers 0-255, got {fill!r}")


def norm_category(name: str | None) -> str:
    return re.sub(r"[\s_\-]+", " ", str(name or "")).strip().lower()


def digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Effective:
    """The settings that apply to one image (after its category's override)."""

    policy: str
    thresholds: dict
    masking: dict
    category: str | None
    override: bool

    def as_audit(self) -> dict:
        return {
            "policy": self.policy,
            "thresholds": self.thresholds,
            "masking": self.masking,
            "category": self.category,
            "category_override": self.override,
        }


class Policy:
    def __init__(self, cfg: dict):
        validate(cfg)
        self.cfg = cfg
        self.sha256 = digest(cfg)
        self._overrides = {norm_category(k): v for k, v in (cfg.get("category_overrides") or {}).items()}

    def for_category(self, category: str | None) -> Effective:
        ov = self._overrides.get(norm_category(category)) if category else None
        base = {k: self.cfg.get(k) for k in OVERRIDABLE}
        eff = merge(base, ov) if ov else base
        return Effective(eff["policy"], dict(eff.get("thresholds") or {}), dict(eff.get("masking") or {}), category, bool(ov))
