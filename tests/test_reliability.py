"""Interrupted runs resume to the same tables, outputs are never partial, memory stays bounded."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
from conftest import snakemake, snakemake_cmd


def _tables(root: Path) -> dict[str, bytes]:
    tables = root / "results" / "synthetic" / "tables"
    return {str(p.relative_to(tables)): p.read_bytes() for p in sorted(tables.rglob("*.csv"))}


def test_killed_run_resumes_to_byte_identical_tables(tiny_run, tmp_path):
    proc = subprocess.Popen(snakemake_cmd("tables"), cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    fc_logs = tmp_path / "results" / "synthetic" / "logs" / "fc"
    deadline = time.time() + 400
    while time.time() < deadline and proc.poll() is None and not any(fc_logs.glob("*/*.log")):
        time.sleep(0.5)
    assert proc.poll() is None, "the run ended before a QP started; nothing was interrupted"
    os.killpg(proc.pid, signal.SIGKILL)  # kill Snakemake and its jobs mid-run (QP solves)
    proc.wait()
    for f in (tmp_path / "results").rglob("*"):  # every visible output is whole
        if f.suffix == ".npz" and not f.name.startswith("."):
            with np.load(f) as z:
                z.files
        elif f.suffix == ".parquet" and not f.name.startswith("."):
            pd.read_parquet(f)
    unlock = snakemake(tmp_path, "--unlock")
    assert unlock.returncode == 0, unlock.stderr[-2000:]  # a killed Snakemake leaves its lock behind
    rerun = snakemake(tmp_path, "tables")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert _tables(tmp_path) == _tables(tiny_run)


def test_every_job_of_the_tiny_run_stays_under_4_gb(tiny_run):
    peaks = {f: pd.read_csv(f, sep="\t")["max_rss"].max()
             for f in (tiny_run / "results" / "synthetic" / "benchmarks").rglob("*.tsv")}
    assert len(peaks) > 10
    assert max(peaks.values()) < 4000, max(peaks.items(), key=lambda kv: kv[1])
