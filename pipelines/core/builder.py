"""What a data set provides to the build core.

A `Builder` says what to read (`plan`, run once by the launcher), how to turn one work unit into
rows (`process`, run on workers inside `ShardContext.record` blocks) and which tables and splits
it writes. Everything else (sharding, Beam, dead letters, writes, resume, manifest) is the core's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from pipelines.core.context import ShardContext
from schemas.core import SPLIT_SHARED


class UsageError(Exception):
    """Input that cannot be built at all (missing folder, no files): the CLI exits non-zero."""


@dataclass(frozen=True, order=True)
class WorkUnit:
    """A piece of input one worker reads whole: a file, or a byte range of a large file."""

    kind: str  # which part of the builder handles it (dialogs, products, images, states, ...)
    path: str
    size: int = 0
    start: int = 0
    end: int = -1  # -1: to the end of the file
    split: str = ""  # the source's own split, when its location says it
    key: str = ""  # optional extra key (product stem, ...)

    @property
    def locator(self) -> str:
        return self.path if self.end < 0 and self.start == 0 else f"{self.path}@{self.start}-{self.end}"


class Builder(ABC):
    """Base class of every data set's build. Instances are pickled to workers: keep them small."""

    #: value of the `dataset` column and the manifest's data set name
    dataset: str = ""
    #: split names this build writes for dialog-scoped tables
    splits: tuple[str, ...] = ("train", "valid", "test")
    #: tables written once per split
    dialog_tables: tuple[str, ...] = ()
    #: tables written under split `all` (images, products)
    shared_tables: tuple[str, ...] = ()
    #: unit kinds whose content other shards read too (MMD images, hashed into turns): their
    #: content is part of every shard's fingerprint (see pipelines/core/fingerprint.py)
    shared_kinds: tuple[str, ...] = ()
    #: unit kinds whose rows are keyed by the hash of the unit's bytes (image files): a unit with
    #: the same bytes as an earlier one is filtered as a duplicate by the core
    content_keyed_kinds: tuple[str, ...] = ()
    #: unit kinds that carry the dialogs: when every one of them is empty (no byte but white
    #: space) the input is unusable and the build stops with exit 2, the same for every builder
    primary_kinds: tuple[str, ...] = ()
    #: stages whose records are derived from records already counted (e.g. the image references of
    #: a parsed dialog): balanced like every stage and their dead letters published (counted apart as
    #: `dead_letters.derived`), but outside the `--max-dead-ratio` gate, which is over the records read:
    #: a check of derived parts can neither dilute it nor sink a build whose records all published
    derived_stages: tuple[str, ...] = ()

    @abstractmethod
    def plan(self) -> list[WorkUnit]:
        """List the work (launcher side). Raise UsageError when the input is unusable."""

    @abstractmethod
    def process(self, unit: WorkUnit, ctx: ShardContext) -> None:
        """Read one unit and emit rows (worker side)."""

    def setup(self) -> None:
        """Load side data once per worker (maps, lookup tables); called before any `process`."""

    def config(self) -> dict:
        """Options that change the output: recorded in the manifest and part of the fingerprint."""
        return {}

    def side_files(self) -> dict[str, str]:
        """Files read whole by every worker (name -> path): checksummed into the manifest."""
        return {}

    def required_side_files(self) -> tuple[str, ...]:
        """Names in `side_files` whose table the build cannot do without: an empty one stops the
        build (exit 2); any other empty side file is a warning in the manifest and on stderr."""
        return ()

    def manifest_sections(self) -> dict:
        """Extra top-level manifest sections (e.g. `privacy` of `mmdial mask-manual`); the core's own keys win."""
        return {}

    def shared_inputs(self) -> list[str]:
        """Other files any worker may read that are not work units (e.g. SIMMC screenshots): their
        content is part of every shard's fingerprint."""
        return []

    def input_roots(self) -> list[str]:
        """The declared input folders (`--raw`, `--images`, the folders of side files such as
        `--states`): paths published in tables (images.uri, products.source, dead letters) are
        stored relative to them. Default: every field named `raw`, `input` or `*_dir`, `*_path`,
        `*_paths` that holds a path (a file counts by its folder)."""
        import dataclasses
        import os
        import posixpath

        values: list[str] = []
        for f in dataclasses.fields(self) if dataclasses.is_dataclass(self) else []:
            if f.name.startswith("_") or not (f.name in ("raw", "input") or f.name.endswith(("_dir", "_path", "_paths"))):
                continue
            v = getattr(self, f.name)
            values += [x for x in (v.values() if isinstance(v, dict) else v if isinstance(v, list | tuple) else [v]) if isinstance(x, str)]
        roots = []
        for v in values:
            local = "://" not in v
            is_file = os.path.isfile(v) if local else posixpath.splitext(v)[1] != ""
            roots.append(posixpath.dirname(v.rstrip("/")) if is_file else v.rstrip("/"))
        return sorted(set(r for r in roots if r))

    def rel(self, path: str) -> str:
        """`path` as published: relative to the declared input roots (see `input_roots`)."""
        from pipelines.core.paths import relative_to

        roots = self.__dict__.get("_roots_cache")
        if roots is None:
            roots = self.__dict__["_roots_cache"] = self.input_roots()
        return relative_to(path, roots)

    def references(self) -> list[tuple[str, str, str, str]]:
        """(table, column, target table, target column): every id in `table.column` (a string or
        a list of strings) must exist in `target.column` of the same build (checked at publish)."""
        return []

    def unique_keys(self) -> dict[str, tuple[str, ...]]:
        """Table -> columns whose values must be unique across the whole build (checked at publish)."""
        return {}

    def table_stats(self, table: str, rows: list[dict]) -> dict[str, float]:
        """Extra sums per table for the manifest (e.g. positives per sample)."""
        return {}

    def layout(self) -> dict[str, tuple[str, ...]]:
        """Table -> split names every shard writes (empty files included, so the set is complete)."""
        out = {t: tuple(self.splits) for t in self.dialog_tables}
        out.update({t: (SPLIT_SHARED,) for t in self.shared_tables})
        out.setdefault("dead_letters", (SPLIT_SHARED,))
        return out
