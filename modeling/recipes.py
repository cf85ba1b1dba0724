"""The recipe registry: every trainable kind, once, and what it is made of.

`mmdial train | evaluate | report | experiment` look a kind up here and call its recipe; nothing
else in the CLI knows which kinds exist (as torchtune's `_recipe_registry.py` serves `tune run`).
A recipe names:

- `family`: the config family it trains with, i.e. the root config every one of its configs
  derives from through `base:` (`defaults` for SeMANTIC and its baselines, `jddc`, `jddc_discourse`,
  `jddc_summary`, `mese`). A config of another family is refused in one line that names the
  right configs, before anything runs.
- `module`: the model folder's recipe module, imported only when the kind is used (torch stays out of
  `mmdial --help`). It provides `train(kind, cfg, log) -> [seed folders]`,
  `evaluate(kind, EvalRequest) -> text` and `report(runs, out) -> text`; `train_fn` / `evaluate_fn`
  name other functions of that module when one module serves several recipes. Every recipe with
  `trained` trains through the one loop (`modeling.core.loop.fit`) and writes its run folder.
- `what`: one line for `--help` and errors.

Adding a model: a folder under `modeling/` with a `recipe.py` and one `Recipe(...)` line below
(modeling/README.md, "Adding a model").
"""

from __future__ import annotations

import importlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path


class RecipeError(ValueError):
    """An unknown kind, or a config or run that does not belong to the kind asked for."""


@dataclass(frozen=True)
class EvalRequest:
    """What `mmdial evaluate` asks of any recipe (a recipe ignores what it has no use for)."""

    run: str
    split: str | None = None
    data: str | None = None
    device: str = "auto"
    max_turns: int | None = None
    eval_mode: str = "mmdial"
    log: object = field(default=print, compare=False)
    protocol: str = "mmdial"  # MESE: mmdial | paper (the official language-metric definitions)


@dataclass(frozen=True)
class Recipe:
    name: str
    family: str
    module: str
    what: str
    trained: bool = True  # False: fitted without gradient steps (Lead, LexRank): no metrics.jsonl or checkpoints
    train_fn: str = "train"
    evaluate_fn: str = "evaluate"
    report_fn: str = "report"

    def _fn(self, name: str):
        return getattr(importlib.import_module(self.module), name)

    def train(self, cfg: dict, log=print) -> list[str]:
        return self._fn(self.train_fn)(self.name, cfg, log)

    def evaluate(self, req: EvalRequest) -> str:
        return self._fn(self.evaluate_fn)(self.name, req)

    def report(self, runs: list[str], out: str) -> str:
        return self._fn(self.report_fn)(runs, out)


_JDDC = "modeling.jddc.recipe"
_GEN = {"train_fn": "train_generation", "evaluate_fn": "evaluate_generation"}
_PARSE = {"train_fn": "train_parse", "evaluate_fn": "evaluate_parse"}

RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe("semantic", "defaults", "modeling.semantic.recipe", "SeMANTIC (teacher-student multimodal recommender)"),
        Recipe("clip", "defaults", "modeling.semantic.recipe", "CLIP-style dual encoder baseline"),
        Recipe("text", "defaults", "modeling.semantic.recipe", "text-only baseline"),
        Recipe("mhred", "defaults", "modeling.semantic.recipe", "MHRED baseline (Saha et al. 2018; Table 1)"),
        Recipe("umd", "defaults", "modeling.semantic.recipe", "UMD baseline (Cui et al. 2019; Table 1)"),
        Recipe("magic", "defaults", "modeling.semantic.recipe", "MAGIC baseline (Nie et al. 2019; Table 1)"),
        Recipe("larch", "defaults", "modeling.semantic.recipe", "LARCH baseline (Nie et al. 2021; Table 1)"),
        Recipe("treasure", "defaults", "modeling.semantic.recipe", "TREASURE baseline (Zhang et al. 2021; Table 1)"),
        Recipe("jddc-response", "jddc", _JDDC, "JDDC response generation (model.multimodal true/false)", **_GEN),
        Recipe("jddc-rewrite-cls", "jddc", _JDDC, "JDDC rewritable-query classifier (model.multimodal true/false)", **_GEN),
        Recipe("jddc-rewrite", "jddc", _JDDC, "JDDC query rewriting (model.multimodal true/false)", **_GEN),
        Recipe("jddc-discourse", "jddc_discourse", _JDDC, "JDDC Deep Sequential discourse parser", **_PARSE),
        Recipe("jddc-summary-lead", "jddc_summary", _JDDC, "JDDC summary: Lead", False, **_PARSE),
        Recipe("jddc-summary-lexrank", "jddc_summary", _JDDC, "JDDC summary: LexRank", False, **_PARSE),
        Recipe("jddc-summary-pg", "jddc_summary", _JDDC, "JDDC summary: Pointer-Generator", **_PARSE),
        Recipe("jddc-summary-bertsum", "jddc_summary", _JDDC, "JDDC summary: BERTSUMABS", **_PARSE),
        Recipe("mese", "mese", "modeling.mese.recipe", "MESE on a ReDial or INSPIRED build"),
    )
}
FAMILIES = tuple(dict.fromkeys(r.family for r in RECIPES.values()))


def kinds_help() -> str:
    return "; ".join(f"{r.name} ({r.what})" for r in RECIPES.values())


def get(kind: str) -> Recipe:
    try:
        return RECIPES[kind]
    except KeyError:
        raise RecipeError(f"unknown kind {kind!r}: one of {', '.join(RECIPES)}") from None


def configs_of(family: str, folders=None) -> list[str]:
    """The packaged configs of a family (modeling/configs and its experiments/, or `folders`)."""
    from modeling.config import SEARCH_DIRS

    names = sorted({p.stem for d in (folders or SEARCH_DIRS) for p in d.glob("*.yaml")})
    return [n for n in names if config_family(n) == family]


def config_family(name_or_path: str) -> str | None:
    """The family of a config: the root of its `base:` chain when that is a family's root config;
    otherwise (a YAML file written from scratch) the family whose root's top-level sections it has
    (the one with the most, when several fit); None when none fits."""
    import yaml

    from modeling.config import ConfigError, find_config, load_file

    path = find_config(name_or_path)
    seen: set[Path] = set()
    while path not in seen:
        seen.add(path)
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh) or {}
        base = doc.get("base") if isinstance(doc, dict) else None
        if not base:
            break
        path = find_config(base)
    if path.stem in FAMILIES:
        return path.stem
    try:
        keys = set(load_file(find_config(name_or_path)))
    except ConfigError:
        return None
    fits = [(len(k), f) for f in FAMILIES if (k := set(load_file(find_config(f)))) <= keys]
    return max(fits)[1] if fits else None


def check_config(recipe: Recipe, config: str) -> None:
    """Refuse, in one line, a config of another family than the recipe's."""
    family = config_family(config)
    if family == recipe.family:
        return
    kinds = ", ".join(r.name for r in RECIPES.values() if r.family == family) if family else ""
    of = f"is a {family} config (for {kinds})" if family else "belongs to no recipe family"
    from modeling.config import CONFIG_DIR

    main = configs_of(recipe.family, [CONFIG_DIR])
    more = len(configs_of(recipe.family)) - len(main)
    names = ", ".join(main) + (f" (and {more} in configs/experiments)" if more else "")
    raise RecipeError(f"config {config!r} {of}; {recipe.name} trains with {recipe.family} configs: {names}")


def kind_of_run(path: str) -> str:
    """The kind a run folder (or an evaluated metrics JSON) was trained as."""
    from modeling.core.runs import RUN_FILE, seed_folders

    if path.endswith(".json"):
        doc_path = path
    elif os.path.exists(os.path.join(path, "metrics.json")):
        doc_path = os.path.join(path, "metrics.json")
    else:
        try:
            doc_path = os.path.join(seed_folders(path)[0], RUN_FILE)
        except FileNotFoundError:
            raise FileNotFoundError(f"{path}: no metrics.json (an evaluated run) and no trained run here") from None
    with open(doc_path, encoding="utf-8") as fh:
        doc = json.load(fh)
    kind = doc.get("task") or doc.get("model")
    if kind not in RECIPES:
        raise RecipeError(f"{path}: not a run of a known kind ({kind!r})")
    return kind


def report(runs: list[str], out: str) -> list[str]:
    """One report per recipe report function over the runs of its kinds, in the runs' order."""
    folders = {r.module.split(".")[1] for r in RECIPES.values()}
    groups: dict[tuple[str, str], list[str]] = {}
    for run in runs:
        if run in folders and not os.path.exists(run):
            continue  # `mmdial report jddc RUN...` (older form): the kind is read from each run
        r = get(kind_of_run(run))
        groups.setdefault((r.module, r.report_fn), []).append(run)
    texts = []
    for (module, fn), members in groups.items():
        texts.append(getattr(importlib.import_module(module), fn)(members, out))
    return texts
