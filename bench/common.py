"""Shared helpers of the benchmark scripts (bench/README.md): machine columns and atomic CSV output.

Every benchmark CSV ends with the machine columns :data:`MACHINE_COLUMNS`: ``machine`` (host
name), ``cpus``, ``load_1m`` (1-minute load average when the CSV is written: a busy machine
shows here) and ``python``. Import from a script under bench/ (the script's folder is on
``sys.path`` when it runs) as ``from common import write_csv``.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

import pandas as pd

from weakseg.io import atomic_path

REPO = Path(__file__).resolve().parents[1]
RESULTS_BENCH = REPO / "results" / "bench"
MACHINE_COLUMNS = ("machine", "cpus", "load_1m", "python")


def machine_info() -> dict[str, object]:
    """The :data:`MACHINE_COLUMNS` values now (``load_1m`` rounded to 0.01)."""
    return {"machine": platform.node(), "cpus": os.cpu_count(), "load_1m": round(os.getloadavg()[0], 2),
            "python": platform.python_version()}


def write_csv(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``df`` plus the machine columns to ``path`` (no index), replacing it atomically.

    Returns the path written. Raises ValueError if ``df`` already has a machine column.
    """
    clash = sorted(set(df.columns) & set(MACHINE_COLUMNS))
    if clash:
        raise ValueError(f"benchmark rows must not carry the machine columns {clash}; write_csv appends them")
    path = Path(path)
    with atomic_path(path) as tmp:
        df.assign(**machine_info()).to_csv(tmp, index=False)
    return path
