"""Build one table: every cell measured from per-item evaluations, beside the paper's value.

The result is a long frame, one line per (row, column), with the columns of
:data:`TABLE_COLUMNS`; ``measured`` is NaN for paper-only rows (``measured_std`` is the spread
over training seeds where there are several) and ``paper`` is NaN
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
    "metric", "measured", "measured_std", "paper", "paper_std",
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


def _row_values(spec: TableSpec, row: Row, evaluations: Mapping[tuple[str, str], pd.DataFrame],
                datasets: Mapping[str, DatasetRef]) -> dict[str, float]:
    """Every measured cell of ``row`` (class and metric columns, then the ``mean`` columns)."""
    measured: dict[str, float] = {}
    for col in spec.columns:
        cell = spec.cell(row, col)
        if col.aggregate == "mean":
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
        if col.aggregate == "mean":
            metric = spec.cell(row, col).metric
            parts = [measured[c.key] for c in spec.columns if c.cls is not None and spec.cell(row, c).metric == metric]
            measured[col.key] = float(np.nanmean(parts)) if np.isfinite(parts).any() else float("nan")
    return measured


def _seeds(row: Row, evaluations: Mapping[tuple[str, str], pd.DataFrame]) -> list:
    """The training seeds of the row's evaluations (a ``seed`` column), or [None] without one."""
    seeds = sorted({int(s) for (v, _), ev in evaluations.items() if v == row.variant and "seed" in ev.columns
                    for s in ev["seed"].unique()})
    return seeds or [None]


def _of_seed(evaluations: Mapping[tuple[str, str], pd.DataFrame], seed) -> dict[tuple[str, str], pd.DataFrame]:
    if seed is None:
        return dict(evaluations)
    return {k: ev[ev["seed"] == seed] if "seed" in ev.columns else ev for k, ev in evaluations.items()}


def build_table(spec: TableSpec, paper: PaperSpec, evaluations: Mapping[tuple[str, str], pd.DataFrame],
                datasets: Mapping[str, DatasetRef], unavailable: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Fill ``spec``; ``evaluations[(variant, benchmark)]`` is the per-item evaluation and
    ``datasets[benchmark]`` the dataset it was measured on.

    An evaluation with a ``seed`` column holds several trained models: each cell is measured
    per seed, and ``measured`` / ``measured_std`` are their mean and standard deviation (ddof 1;
    NaN for one seed). Rows whose variant is in ``unavailable`` (variant -> reason, e.g. data the
    profile lacks) are left unmeasured.
    """
    unavailable = unavailable or {}
    records = []
    for row in spec.rows:
        measured: dict[str, float] = {}
        spread: dict[str, float] = {}
        if not row.paper_only and row.variant not in unavailable:
            runs = [_row_values(spec, row, _of_seed(evaluations, s), datasets) for s in _seeds(row, evaluations)]
            for key in runs[0]:
                values = np.array([r[key] for r in runs], dtype=float)
                finite = values[np.isfinite(values)]
                measured[key] = float(finite.mean()) if len(finite) else float("nan")
                spread[key] = float(finite.std(ddof=1)) if len(finite) > 1 else float("nan")
        for col in spec.columns:
            cell = spec.cell(row, col)
            value, std = paper_value(paper, spec.id, row.key, col.key)
            records.append({
                "row": row.key, "row_label": row.label, "paper_only": row.paper_only, "column": col.key,
                "column_label": col.label, "benchmark": cell.benchmark,
                "dataset": datasets[cell.benchmark].name if cell.benchmark in datasets else None,
                "split": cell.split, "metric": cell.metric, "measured": measured.get(col.key, float("nan")),
                "measured_std": spread.get(col.key, float("nan")), "paper": value, "paper_std": std,
            })
    return pd.DataFrame(records, columns=list(TABLE_COLUMNS))


def table_benchmarks(spec: TableSpec) -> Sequence[str]:
    """Benchmarks the measured cells of ``spec`` need, sorted."""
    return sorted({b for _, b in spec.requirements()})
