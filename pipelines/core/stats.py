"""Statistics of a build, as the source papers report them: one function per table of figures.

Every table is computed from the build's own Parquet (the columns it needs only, read through
Beam's FileSystems so a build on gs:// or s3:// works too) and returned as a `StatTable`: a title,
the source paper table it mirrors, column headers and rows. `mmdial stats BUILD` prints them and
the dataset card (`OUT/README.md`) renders them as Markdown, so the two always agree.

Definitions (the same for every data set):
- utterances: rows of `turns`; images: image references of `turns` (`image_refs`, resolved or not);
- utterance length: characters for Chinese data sets (JDDC), whitespace-separated words otherwise;
- knowledge base: entities = products, entity types = distinct categories, relations = distinct
  attribute names, triples = (product, attribute, value) rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.core.manifest import read_manifest
from pipelines.core.parquet import read_table
from pipelines.core.splits import split_order

CHAR_LENGTH_DATASETS = ("jddc",)

#: the paper table each statistics table mirrors, per data set; a table with no entry follows
#: mmdial's own definitions (above) and names no source, rather than another data set's paper
PAPER_TABLES = {
    ("mmd", "Dialogues"): "SeMANTIC (Appendix A.1) Table 3, MMD v2 columns",
    ("mmd-v3", "Dialogues"): "SeMANTIC (Appendix A.1) Table 3, MMD v3 with DS columns",
    ("simmc", "Dialogues"): "SeMANTIC (Appendix A.1) Table 4",
    ("jddc", "Dialogues"): "JDDC 2.1 Table 2",
    ("redial", "Dialogues"): "MESE Table 1 (dialogs, utterances, avg turns)",
    ("inspired", "Dialogues"): "MESE Table 1 (dialogs, utterances, avg turns)",
    ("mmd", "Recommendation samples"): "SeMANTIC Table 3 (Avg Rec Turns, Avg Pos Imgs, Avg Neg Imgs)",
    ("mmd-v3", "Recommendation samples"): "SeMANTIC Table 3 (Avg Rec Turns, Avg Pos Imgs, Avg Neg Imgs)",
    ("simmc", "Recommendation samples"): "SeMANTIC Table 4 (Avg Rec Turns, Avg Pos Imgs, Avg Neg Imgs)",
    ("mmd-v3", "Dialog states"): "MMD 2.0 (Nie et al. 2021)",
    ("mmd", "Dialog states"): "MMD 2.0 (Nie et al. 2021)",
    ("jddc", "Knowledge base"): "JDDC 2.1 Table 11",
}


def paper_table(dataset: str, title: str) -> str:
    return PAPER_TABLES.get((dataset, title), "")


@dataclass
class StatTable:
    title: str
    headers: list[str]
    rows: list[list]
    source: str = ""  # which table or figure of the source paper it mirrors
    note: str = ""

    def as_dict(self) -> dict:
        return {"title": self.title, "source": self.source, "headers": self.headers, "rows": self.rows, "note": self.note}


@dataclass
class BuildStats:
    dataset: str
    tables: list[StatTable] = field(default_factory=list)
    # raw series for the plots: name -> list of numbers or (label, count) pairs
    series: dict[str, list] = field(default_factory=dict)


def fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:,.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def to_markdown(t: StatTable) -> str:
    lines = [f"| {' | '.join(t.headers)} |", "|" + "|".join("---" for _ in t.headers) + "|"]
    lines += [f"| {' | '.join(fmt(v) for v in row)} |" for row in t.rows]
    return "\n".join(lines)


class _Reader:
    def __init__(self, out: str, manifest: dict):
        self.out = out
        self.tables = manifest.get("tables", {})

    def has(self, table: str) -> bool:
        return any(s.get("rows") for s in self.tables.get(table, {}).values())

    def splits(self, table: str) -> list[str]:
        return [s for s, info in self.tables.get(table, {}).items() if info.get("rows")]

    def read(self, table: str, columns: list[str]):
        import polars as pl

        return pl.from_arrow(read_table(self.out, table, columns=columns))


def _order(splits: list[str]) -> list[str]:
    return split_order(splits)


def compute(out: str, manifest: dict | None = None) -> BuildStats:
    import polars as pl

    manifest = manifest or read_manifest(out)
    r = _Reader(out, manifest)
    st = BuildStats(dataset=manifest.get("dataset", ""))
    chars = st.dataset in CHAR_LENGTH_DATASETS
    if r.has("dialogs") and r.has("turns"):
        turns = r.read("turns", ["dialog_id", "split", "speaker", "text", "image_refs"]).with_columns(
            (
                pl.col("text").str.len_chars()
                if chars
                else pl.col("text").str.split(" ").list.eval(pl.element().filter(pl.element() != "")).list.len()
            ).alias("length"),
            pl.col("image_refs").list.len().fill_null(0).alias("images"),
        )
        dialogs = r.read("dialogs", ["dialog_id", "split", "domain"])
        per_dialog = turns.group_by("dialog_id").agg(pl.len().alias("utterances"), pl.col("images").sum().alias("images"))
        st.series["utterances_per_dialog"] = per_dialog["utterances"].to_list()
        st.series["utterance_length"] = turns["length"].to_list()
        st.series["length_unit"] = ["characters" if chars else "words"]
        st.tables.append(_dialog_table(turns, dialogs, chars))
        if dialogs["domain"].drop_nulls().n_unique() > 1:
            st.tables.append(_dialog_table(turns, dialogs, chars, by="domain"))
    if r.has("rec_samples"):
        st.tables.append(_rec_table(r.read("rec_samples", ["dialog_id", "split", "num_positives", "num_negatives", "context"])))
    if r.has("dialog_states"):
        st.tables.append(_states_table(r.read("dialog_states", ["split", "slots", "source"])))
    kb = _kb_table(r)
    if kb:
        st.tables.append(kb)
    for t in st.tables:
        t.source = t.source or paper_table(st.dataset, t.title)
    if r.has("images"):
        images = r.read("images", ["format", "privacy_status", "source"])
        rows = [[f"format: {k}", v] for k, v in _counts(images["format"].fill_null("unknown"))]
        rows += [[f"privacy status: {k}", v] for k, v in _counts(images["privacy_status"])]
        st.tables.append(StatTable("Images", ["", "images"], [["images", images.height], *rows]))
    if r.has("jddc_image_categories"):
        cats = r.read("jddc_image_categories", ["category", "category_group"])
        pairs = _counts(cats["category"])
        st.series["image_categories"] = pairs
        st.series["categories_of"] = ["images"]
        groups = dict(zip(cats["category"].to_list(), cats["category_group"].to_list()))
        rows = [[groups[c], c, n, round(100 * n / cats.height, 1)] for c, n in pairs]
        st.tables.append(StatTable("Image categories", ["category", "sub-category", "images", "%"], rows, "JDDC 2.1 Table 4 / Figure 6"))
    elif r.has("products"):
        st.series["image_categories"] = _counts(r.read("products", ["category"])["category"].fill_null("unknown"))[:15]
    if r.has("jddc_discourse"):
        st.tables += _discourse_tables(r)
    if r.has("jddc_query_rewrites") or r.has("jddc_summaries"):
        st.tables.append(_layer_table(r))
    if r.has("redial_movie_labels"):
        labels = r.read("redial_movie_labels", ["form", "suggested", "seen", "liked"])
        rows = []
        for form in sorted(labels["form"].unique().to_list()):
            f = labels.filter(pl.col("form") == form)
            rows.append([form, f.height, int((f["suggested"] == 1).sum()), int((f["seen"] == 1).sum()), int((f["liked"] == 1).sum())])
        st.tables.append(
            StatTable("Movie questionnaires", ["form", "answers", "suggested", "seen", "liked"], rows, "ReDial (Li et al. 2018)")
        )
    if st.dataset == "inspired" and r.has("turns"):
        st.tables.append(_strategy_table(r.read("turns", ["speaker", "annotations"])))
    dl = manifest.get("dead_letters", {})
    if dl.get("count"):
        rows = [[stage, n] for stage, n in sorted(dl.get("by_stage", {}).items())]
        st.tables.append(
            StatTable("Dead letters by stage", ["stage", "records"], rows, note=f"ratio {dl.get('ratio', 0):.4f} of the records read")
        )
    return st


def _strategy_table(turns) -> StatTable:
    """INSPIRED's sociable strategies: recommender utterances per first strategy label."""
    import json

    labels = [json.loads(a or "{}").get("strategy") or "(none)" for a, s in zip(turns["annotations"], turns["speaker"]) if s == "system"]
    counts = sorted(((k, labels.count(k)) for k in set(labels)), key=lambda kv: (-kv[1], kv[0]))
    n = max(len(labels), 1)
    return StatTable("Sociable strategies", ["strategy", "recommender utterances", "%"], [[k, v, round(100 * v / n, 1)] for k, v in counts])


def _counts(col) -> list[tuple[str, int]]:
    vc = col.value_counts()
    name = col.name
    return sorted(((str(k), int(n)) for k, n in zip(vc[name].to_list(), vc["count"].to_list())), key=lambda kv: (-kv[1], kv[0]))


def _dialog_table(turns, dialogs, chars: bool, by: str = "split") -> StatTable:
    import polars as pl

    keyed = turns.join(dialogs.select("dialog_id", pl.col(by).fill_null("unknown").alias("_group")), on="dialog_id", how="left")
    groups = (
        _order(dialogs[by].fill_null("unknown").unique().to_list())
        if by == "split"
        else sorted(dialogs[by].fill_null("unknown").unique().to_list())
    )
    cols = [("Total", dialogs, keyed)] + [
        (g, dialogs.filter(pl.col(by).fill_null("unknown") == g), keyed.filter(pl.col("_group") == g)) for g in groups
    ]
    unit = "characters" if chars else "words"
    rows = [
        ["# Dialogues"],
        ["# Utterances"],
        ["# Avg. utterances per dialogue"],
        ["# Images"],
        ["# Avg. images per dialogue"],
        [f"Avg. utterance length ({unit})"],
    ]
    for _, d, t in cols:
        n = max(d.height, 1)
        rows[0].append(d.height)
        rows[1].append(t.height)
        rows[2].append(t.height / n)
        rows[3].append(int(t["images"].sum()))
        rows[4].append(int(t["images"].sum()) / n)
        rows[5].append(float(t["length"].mean() or 0.0))
    title = "Dialogues" if by == "split" else f"Dialogues by {by}"
    return StatTable(title, [""] + [c for c, _, _ in cols], rows)


def _rec_table(rec) -> StatTable:
    import polars as pl

    rows = []
    for split in ["Total"] + _order(rec["split"].unique().to_list()):
        f = rec if split == "Total" else rec.filter(pl.col("split") == split)
        ctx = f["context"].list.len()
        per_dialog = f.height / max(f["dialog_id"].n_unique(), 1)
        rows.append(
            [
                split,
                f.height,
                per_dialog,
                float(f["num_positives"].mean() or 0),
                float(f["num_negatives"].mean() or 0),
                float(ctx.mean() or 0),
            ]
        )
    headers = ["split", "samples", "avg. per dialogue", "avg. positives", "avg. negatives", "avg. context turns"]
    return StatTable("Recommendation samples", headers, rows)


def _states_table(states) -> StatTable:
    import polars as pl

    rows = []
    for split in ["Total"] + _order(states["split"].unique().to_list()):
        f = states if split == "Total" else states.filter(pl.col("split") == split)
        keys = f.select(pl.col("slots").explode().struct.field("key")).drop_nulls()
        rows.append([split, f.height, keys.n_unique() if keys.height else 0, float(f["slots"].list.len().mean() or 0)])
    return StatTable("Dialog states", ["split", "states", "slot keys", "avg. slots per state"], rows)


def _kb_table(r: _Reader) -> StatTable | None:
    import polars as pl

    if r.has("jddc_kb_triples"):
        kb = r.read("jddc_kb_triples", ["product_id", "attribute"])
        products = r.read("products", ["product_id", "category"]) if r.has("products") else None
        types = products["category"].drop_nulls().n_unique() if products is not None else 0
        rows = [
            ["Entity", kb["product_id"].n_unique()],
            ["Entity type", types],
            ["Relation", kb["attribute"].n_unique()],
            ["Triple", kb.height],
        ]
        return StatTable("Knowledge base", ["item", "number"], rows)
    if r.has("products"):
        p = r.read("products", ["product_id", "category", "attributes"])
        keys = p.select(pl.col("attributes").explode().struct.field("key")).drop_nulls()
        rows = [
            ["Entity", p.height],
            ["Entity type", p["category"].drop_nulls().n_unique()],
            ["Relation", keys.n_unique() if keys.height else 0],
            ["Triple", keys.height],
        ]
        return StatTable("Knowledge base", ["item", "number"], rows)
    return None


def _discourse_tables(r: _Reader) -> list[StatTable]:
    import polars as pl

    rel = r.read("jddc_discourse", ["dialog_id", "split", "level1", "level2", "level3"])
    turns = r.read("turns", ["dialog_id", "turn_index", "speaker"]).join(rel.select("dialog_id").unique(), on="dialog_id")
    turns = turns.sort("dialog_id", "turn_index").with_columns(
        (pl.col("speaker") != pl.col("speaker").shift(1).over("dialog_id")).fill_null(True).alias("new_turn")
    )
    splits = _order(rel["split"].unique().to_list())
    cols = ["Total"] + splits
    rows = [["# Dialogues"], ["# Turns"], ["# EDUs"], ["# Discourse Relations"]]
    for c in cols:
        f = rel if c == "Total" else rel.filter(pl.col("split") == c)
        ids = f.select("dialog_id").unique()
        t = turns.join(ids, on="dialog_id")
        rows[0].append(ids.height)
        rows[1].append(int(t["new_turn"].sum()))
        rows[2].append(t.height)
        rows[3].append(f.height)
    overview = StatTable(
        "Discourse parsing", [""] + cols, rows, "JDDC 2.1 Table 3", "EDU = utterance (`turns` row); turn = run of one speaker's utterances."
    )
    counts = rel.group_by("level1", "level2", "level3", "split").len()
    dist_rows = []
    for l1, l2, l3 in sorted(set(zip(counts["level1"].to_list(), counts["level2"].to_list(), counts["level3"].to_list()))):
        row = [l1, l2, l3]
        for s in splits:
            m = counts.filter((pl.col("level1") == l1) & (pl.col("level2") == l2) & (pl.col("level3") == l3) & (pl.col("split") == s))
            row.append(int(m["len"].sum()))
        dist_rows.append(row)
    dist_rows.append(["Total", "", ""] + [int((rel["split"] == s).sum()) for s in splits])
    dist = StatTable("Discourse relations", ["1st class", "2nd class", "3rd class"] + splits, dist_rows, "JDDC 2.1 Table 12")
    return [overview, dist]


def _layer_table(r: _Reader) -> StatTable:
    rows = []
    if r.has("jddc_query_rewrites"):
        q = r.read("jddc_query_rewrites", ["rewritable", "rewritten_chars"])
        rows += [
            ["query rewriting: queries", q.height],
            ["query rewriting: not rewritable (%)", 100 * float((~q["rewritable"]).mean() or 0)],
            ["query rewriting: avg. rewrite length (characters)", float(q["rewritten_chars"].mean() or 0)],
        ]
    if r.has("jddc_summaries"):
        s = r.read("jddc_summaries", ["summary_chars", "trivial_turn_indices"])
        rows += [
            ["summaries: sessions", s.height],
            ["summaries: avg. length (characters)", float(s["summary_chars"].mean() or 0)],
            ["summaries: avg. trivial utterances", float(s["trivial_turn_indices"].list.len().mean() or 0)],
        ]
    return StatTable("Annotation layers", ["", "value"], rows, "JDDC 2.1 §3.4 (about 14.28% not rewritable; summaries 38.3 characters)")
