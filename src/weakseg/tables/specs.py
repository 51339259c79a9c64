"""Table specs and the papers' numbers: loading and validation.

The format is documented in ``FORMAT.md`` beside this file. A :class:`TableSpec`
says which rows (variants of one paper's method, or paper-only citations) and which
columns (classes, metrics, aggregates) a table has, and on which benchmark, split and
metric each cell is measured (column overrides row, row overrides table).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd
import yaml

from weakseg.tables.aggregate import AGGREGATORS

PAPERS: tuple[str, ...] = ("fc", "mcnn", "ssnm", "mil", "colocam")
SPLITS: tuple[str, ...] = ("train", "val", "test", "all")
AGGREGATES: tuple[str | None, ...] = (None, "mean", "class_mean")
NUMBER_COLUMNS: tuple[str, ...] = ("table", "row", "column", "value", "std", "note")


class SpecError(ValueError):
    """A spec or paper-numbers file is malformed; the message names the file and key."""


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    cls: str | None = None
    aggregate: str | None = None          # None, "mean" (of the row's class columns), "class_mean"
    classes: tuple[str, ...] | None = None  # class_mean only: the classes to average (default: all)
    unit: str | None = None
    benchmark: str | None = None
    split: str | None = None
    metric: str | None = None


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    variant: str | None = None
    cite: str | None = None
    note: str | None = None
    benchmark: str | None = None
    split: str | None = None
    metric: str | None = None

    @property
    def paper_only(self) -> bool:
        return self.variant is None


@dataclass(frozen=True)
class Cell:
    """Where one cell is measured."""

    benchmark: str
    split: str
    metric: str


@dataclass(frozen=True)
class TableSpec:
    paper: str
    id: str
    paper_table: str
    title: str
    benchmark: str
    split: str
    metric: str
    unit: str
    protocol: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]

    @property
    def name(self) -> str:
        """``<paper>_<id>``, the Snakemake target name of the table."""
        return f"{self.paper}_{self.id}"

    def cell(self, row: Row, column: Column) -> Cell:
        """Benchmark, split and metric of a cell: column overrides row, row overrides table."""
        def pick(attr: str) -> str:
            return getattr(column, attr) or getattr(row, attr) or getattr(self, attr)
        return Cell(pick("benchmark"), pick("split"), pick("metric"))

    def measured_rows(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if not r.paper_only)

    def requirements(self) -> set[tuple[str, str]]:
        """The (variant, benchmark) pairs whose evaluations the table reads."""
        return {(r.variant, self.cell(r, c).benchmark) for r in self.measured_rows() for c in self.columns
                if r.variant is not None}


@dataclass(frozen=True)
class PaperSpec:
    paper: str
    citation: str
    issue: int
    tables: dict[str, TableSpec]
    numbers: pd.DataFrame      # columns NUMBER_COLUMNS


def _known_benchmarks() -> set[str]:
    from weakseg.data.benchmarks import load_benchmarks
    return set(load_benchmarks())


def _parse_table(paper: str, raw: dict[str, Any], where: str) -> TableSpec:
    try:
        columns = tuple(Column(key=c["key"], label=str(c.get("label", c["key"])), cls=c.get("class"),
                               aggregate=c.get("aggregate"),
                               classes=tuple(c["classes"]) if c.get("classes") else None,
                               unit=c.get("unit"), benchmark=c.get("benchmark"),
                               split=c.get("split"), metric=c.get("metric")) for c in raw["columns"])
        rows = tuple(Row(key=r["key"], label=str(r.get("label", r["key"])), variant=r.get("variant"),
                         cite=r.get("cite"), note=r.get("note"), benchmark=r.get("benchmark"),
                         split=r.get("split"), metric=r.get("metric")) for r in raw["rows"])
        spec = TableSpec(paper=paper, id=raw["id"], paper_table=raw["paper_table"], title=raw["title"],
                         benchmark=raw["benchmark"], split=raw["split"], metric=raw["metric"],
                         unit=raw.get("unit", ""), protocol=" ".join(str(raw.get("protocol", "")).split()),
                         columns=columns, rows=rows)
    except KeyError as err:
        raise SpecError(f"{where}: table {raw.get('id', '?')!r} lacks key {err}") from err
    where = f"{where}: table {spec.id!r}"
    for kind, keys in (("column", [c.key for c in columns]), ("row", [r.key for r in rows])):
        dup = {k for k in keys if keys.count(k) > 1}
        if dup:
            raise SpecError(f"{where}: duplicate {kind} keys {sorted(dup)}")
    for r, raw_row in zip(rows, raw["rows"]):
        if (r.variant is None) != bool(raw_row.get("paper_only", False)):
            raise SpecError(f"{where}: row {r.key!r} needs exactly one of 'variant' and 'paper_only: true'")
    benchmarks = _known_benchmarks()
    for r in rows:
        for c in columns:
            cell = spec.cell(r, c)
            if cell.benchmark not in benchmarks:
                raise SpecError(f"{where}: unknown benchmark {cell.benchmark!r}; known: {sorted(benchmarks)}")
            if cell.split not in SPLITS:
                raise SpecError(f"{where}: unknown split {cell.split!r}; allowed: {list(SPLITS)}")
            if cell.metric not in AGGREGATORS:
                raise SpecError(f"{where}: unknown metric {cell.metric!r}; known: {sorted(AGGREGATORS)}")
    for c in columns:
        if c.aggregate not in AGGREGATES:
            raise SpecError(f"{where}: column {c.key!r} has aggregate {c.aggregate!r}; allowed: {AGGREGATES[1:]}")
    return spec


def _parse_numbers(text: str, tables: dict[str, TableSpec], where: str) -> pd.DataFrame:
    import io
    df = pd.read_csv(io.StringIO(text), dtype={"table": str, "row": str, "column": str, "note": str},
                     keep_default_na=False, na_values={"value": [""], "std": [""]})
    if tuple(df.columns) != NUMBER_COLUMNS:
        raise SpecError(f"{where}: header must be {','.join(NUMBER_COLUMNS)}, found {','.join(df.columns)}")
    for i, rec in enumerate(df.itertuples(index=False), start=2):
        spec = tables.get(rec.table)
        if spec is None:
            raise SpecError(f"{where}:{i}: unknown table {rec.table!r}; tables: {sorted(tables)}")
        if rec.row not in {r.key for r in spec.rows} or rec.column not in {c.key for c in spec.columns}:
            raise SpecError(f"{where}:{i}: table {rec.table!r} has no cell ({rec.row!r}, {rec.column!r})")
    dup = df.duplicated(["table", "row", "column"])
    if dup.any():
        raise SpecError(f"{where}: duplicate cell {tuple(df[dup].iloc[0][['table', 'row', 'column']])}")
    return df


@cache
def load_paper(paper: str) -> PaperSpec:
    """Spec and paper numbers of ``paper`` (one of :data:`PAPERS`), validated."""
    if paper not in PAPERS:
        raise SpecError(f"unknown paper {paper!r}; papers: {list(PAPERS)}")
    base = resources.files("weakseg.tables")
    spec_file, numbers_file = base / "specs" / f"{paper}.yaml", base / "paper_numbers" / f"{paper}.csv"
    raw = yaml.safe_load(spec_file.read_text())
    where = f"weakseg/tables/specs/{paper}.yaml"
    tables = {}
    for t in raw["tables"]:
        spec = _parse_table(paper, t, where)
        if spec.id in tables:
            raise SpecError(f"{where}: duplicate table id {spec.id!r}")
        tables[spec.id] = spec
    numbers = _parse_numbers(numbers_file.read_text(), tables, f"weakseg/tables/paper_numbers/{paper}.csv")
    return PaperSpec(paper=paper, citation=raw["citation"], issue=int(raw["issue"]), tables=tables, numbers=numbers)


def paper_value(paper: PaperSpec, table: str, row: str, column: str) -> tuple[float, float]:
    """The paper's (value, std) for a cell; NaN where the paper prints nothing."""
    hit = paper.numbers[(paper.numbers["table"] == table) & (paper.numbers["row"] == row)
                        & (paper.numbers["column"] == column)]
    if hit.empty:
        return float("nan"), float("nan")
    return float(hit["value"].iloc[0]), float(hit["std"].iloc[0])
