"""Build one table: every cell measured from per-item evaluations, beside the paper's value.

The result is a long frame, one line per (row, column), with the columns of
:data:`TABLE_COLUMNS`; ``measured`` is NaN for paper-only rows and ``paper`` is NaN
where the paper prints nothing. Nothing here ever copies a paper number into
``measured``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from weakseg.tables.aggregate import AGGREGATORS, CONFUSION_METRICS
from weakseg.tables.specs import Column, PaperSpec, Row, TableSpec, paper_value

TABLE_COLUMNS: tuple[str, ...] = (
    "row", "row_label", "paper_only", "column", "column_label", "benchmark", "dataset", "split",
    "metric", "measured", "paper", "paper_std",
)
EVAL_COLUMNS: tuple[str, ...] = ("item", "split", "class")


@dataclass(frozen=True)
class DatasetRef:
    """The dataset a benchmark is measured on in the active profile."""

    name: str
    classes: tuple[str, ...]


def _classes_for(metric: str, ds: DatasetRef) -> tuple[str, ...]:
    return ("background", *ds.classes) if metric in CONFUSION_METRICS else ds.classes


def _measure(spec: TableSpec, row: Row, col: Column, ev: pd.DataFrame, ds: DatasetRef) -> float:
    cell = spec.cell(row, col)
    if cell.split != "all":
        ev = ev[ev["split"] == cell.split]
    aggregate = AGGREGATORS[cell.metric]
    classes = _classes_for(cell.metric, ds)
    if col.aggregate == "class_mean":
        subset = col.classes or classes
        unknown = sorted(set(subset) - set(classes))
        if unknown:
            raise ValueError(f"table {spec.name}: column {col.key!r} averages classes {unknown} "
                             f"that dataset {ds.name} does not have")
        values = [aggregate(ev, c, classes) for c in subset]
        return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
    return aggregate(ev, col.cls, classes)


def build_table(spec: TableSpec, paper: PaperSpec, evaluations: Mapping[tuple[str, str], pd.DataFrame],
                datasets: Mapping[str, DatasetRef]) -> pd.DataFrame:
    """Fill ``spec``; ``evaluations[(variant, benchmark)]`` is the per-item evaluation and
    ``datasets[benchmark]`` the dataset it was measured on."""
    records = []
    for row in spec.rows:
        measured: dict[str, float] = {}
        for col in spec.columns:
            cell = spec.cell(row, col)
            if row.paper_only or col.aggregate == "mean":
                continue
            key = (row.variant, cell.benchmark)
            if key not in evaluations:
                raise KeyError(f"table {spec.name}: no evaluation of variant {row.variant!r} on {cell.benchmark}")
            ev = evaluations[key]
            missing = [c for c in EVAL_COLUMNS if c not in ev.columns]
            if missing:
                raise ValueError(f"table {spec.name}: evaluation of {key} lacks columns {missing}")
            measured[col.key] = _measure(spec, row, col, ev, datasets[cell.benchmark])
        for col in spec.columns:
            cell = spec.cell(row, col)
            if col.aggregate == "mean" and not row.paper_only:
                parts = [measured[c.key] for c in spec.columns
                         if c.cls is not None and spec.cell(row, c).metric == cell.metric]
                measured[col.key] = float(np.nanmean(parts)) if np.isfinite(parts).any() else float("nan")
            value, std = paper_value(paper, spec.id, row.key, col.key)
            records.append({
                "row": row.key, "row_label": row.label, "paper_only": row.paper_only, "column": col.key,
                "column_label": col.label, "benchmark": cell.benchmark,
                "dataset": datasets[cell.benchmark].name if cell.benchmark in datasets else None,
                "split": cell.split, "metric": cell.metric, "measured": measured.get(col.key, float("nan")),
                "paper": value, "paper_std": std,
            })
    return pd.DataFrame(records, columns=list(TABLE_COLUMNS))


def table_benchmarks(spec: TableSpec) -> Sequence[str]:
    """Benchmarks the measured cells of ``spec`` need, sorted."""
    return sorted({b for _, b in spec.requirements()})
