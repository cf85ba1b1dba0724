"""Run configuration: YAML data with `base:` inheritance and dotted `key=value` overrides.

A config is named (a file in modeling/configs/ or modeling/configs/experiments/) or given as a
path. `base: NAME` merges the named config underneath (recursively). Overrides such as
`train.epochs=3` or `data=/path` are parsed as YAML scalars and must name an existing key, so a
typo fails loudly instead of training with a default. The resolved config is what a run saves.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import yaml

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
SEARCH_DIRS = (CONFIG_DIR, CONFIG_DIR / "experiments")


class ConfigError(ValueError):
    """A config that cannot be resolved (unknown name, unknown key, bad override)."""


def find_config(name_or_path: str) -> Path:
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") and p.exists():
        return p
    for d in SEARCH_DIRS:
        cand = d / f"{name_or_path}.yaml"
        if cand.exists():
            return cand
    known = sorted(q.stem for d in SEARCH_DIRS for q in d.glob("*.yaml"))
    raise ConfigError(f"no config {name_or_path!r} (a YAML path or one of: {', '.join(known)})")


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def load_file(path: Path, _seen: tuple = ()) -> dict:
    if path in _seen:
        raise ConfigError(f"config inheritance loop through {path}")
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: a config must be a mapping")
    base = doc.pop("base", None)
    if base:
        doc = _merge(load_file(find_config(base), _seen + (path,)), doc)
    return doc


def apply_override(cfg: dict, item: str) -> None:
    if "=" not in item:
        raise ConfigError(f"override {item!r} is not key=value")
    key, raw = item.split("=", 1)
    parts = key.strip().split(".")
    node = cfg
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            raise ConfigError(f"override {key!r}: {part!r} is not a config section")
        node = node[part]
    if parts[-1] not in node:
        raise ConfigError(f"override {key!r}: unknown key (known here: {', '.join(sorted(node))})")
    node[parts[-1]] = _scalar(raw)


def _scalar(raw: str):
    """YAML scalar, plus the numbers PyYAML's YAML 1.1 rules leave as strings (1e-3)."""
    if not raw.strip():
        return None
    value = yaml.safe_load(raw)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def load_config(name_or_path: str, overrides: list[str] | tuple[str, ...] = ()) -> dict:
    cfg = load_file(find_config(name_or_path))
    cfg.setdefault("name", Path(name_or_path).stem)
    for item in overrides:
        apply_override(cfg, item)
    for key in ("data", "test_data", "output_dir"):
        if cfg.get(key):
            cfg[key] = os.path.abspath(os.path.expanduser(str(cfg[key])))
    return cfg


def save_config(cfg: dict, path: str) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        yaml.safe_dump(cfg, fh, sort_keys=False)
    os.replace(tmp, path)
