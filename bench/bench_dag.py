"""Wall time and peak memory of the whole workflow: `snakemake --cores N tables`, cold and no-op rerun.

Both runs use one fresh working directory (a temporary folder unless ``--workdir``): the
workflow writes ``results/`` and ``.snakemake/`` relative to the working directory
(config ``results``, rules/common.smk), so a fresh folder is a cold start with nothing
built and no Snakemake metadata. The second invocation is the no-op rerun: building the
DAG only (the tiny profile's end-to-end test expects "Nothing to be done" there).

Per run, one CSV row (``results/bench/dag.csv``; columns in bench/README.md):

- ``wall_s``: wall time of the snakemake process, start to exit (polled every 10 ms).
- ``jobs``: jobs Snakemake finished (its last "N of M steps" line; 0 for "Nothing to be done").
- ``benchmarked_jobs``, ``job_seconds_sum``, ``job_cpu_seconds_sum``, ``job_max_rss_mb``,
  ``job_max_rss_benchmark``: from the Snakemake benchmark TSVs under
  ``results/<profile>/benchmarks/`` written during this run (columns ``s``, ``cpu_time``,
  ``max_rss`` in MB); rules without a ``benchmark:`` directive (the aggregating targets) have none.
- ``snakemake_max_rss_mb``: the snakemake process's own peak RSS (``VmHWM`` of
  /proc/<pid>/status, last value read before it exits, so growth in its last 10 ms is
  missed; NaN where /proc is absent).
- ``tree_max_rss_mb``: the largest peak RSS of the snakemake process and every descendant
  (``ru_maxrss`` of ``wait4``; on Linux it covers every waited-for descendant).

Usage (from the repository root)::

    python bench/bench_dag.py                                   # default config: ~16 min cold
    python bench/bench_dag.py --configfile tests/config/tiny.yaml --out results/bench/dag_tiny.csv
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))    # bench/common.py, also when imported by a test
from common import REPO, RESULTS_BENCH, write_csv  # noqa: E402

COLUMNS = ("run", "target", "configfiles", "cores", "returncode", "wall_s", "jobs", "benchmarked_jobs",
           "job_seconds_sum", "job_cpu_seconds_sum", "job_max_rss_mb", "job_max_rss_benchmark",
           "snakemake_max_rss_mb", "tree_max_rss_mb")
_STEPS = re.compile(r"^(\d+) of (\d+) steps \(\d+%\) done", re.MULTILINE)
_REASON = re.compile(r"^\s+reason: (.*)$", re.MULTILINE)


@dataclass(frozen=True)
class ProcessStats:
    """One finished process: exit code, wall seconds, its own peak RSS and its tree's (MB)."""

    returncode: int
    wall_s: float
    own_max_rss_mb: float
    tree_max_rss_mb: float


def _vm_hwm_mb(pid: int) -> float:
    """Peak RSS (VmHWM) of a live process in MB, NaN when unreadable (no /proc, or a zombie)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


def run_measured(cmd: Sequence[str], cwd: Path, log: Path, poll_s: float = 0.01) -> ProcessStats:
    """Run ``cmd`` in ``cwd`` (stdout and stderr to ``log``) and measure it (see the module docstring)."""
    own = math.nan
    with open(log, "w") as fh:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=cwd, stdout=fh, stderr=subprocess.STDOUT)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            hwm = _vm_hwm_mb(proc.pid)   # a high-water mark: the last value read is the largest
            own = own if math.isnan(hwm) else hwm
            time.sleep(poll_s)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)   # reaped by wait4, not by Popen
    return ProcessStats(proc.returncode, wall, own, usage.ru_maxrss / 1024)   # ru_maxrss: KB on Linux


def finished_jobs(log_text: str) -> int | None:
    """Jobs Snakemake reports done in its log: 0 for "Nothing to be done", else the last
    "N of M steps" count; None when the log has neither (a failed run)."""
    if "Nothing to be done" in log_text:
        return 0
    steps = _STEPS.findall(log_text)
    return int(steps[-1][0]) if steps else None


def tsv_versions(benchmarks: Path) -> dict[Path, int]:
    """Every TSV under ``benchmarks`` -> its modification time in ns (empty when absent)."""
    return {p: p.stat().st_mtime_ns for p in sorted(benchmarks.rglob("*.tsv"))} if benchmarks.is_dir() else {}


def job_benchmarks(benchmarks: Path, before: dict[Path, int]) -> pd.DataFrame:
    """Snakemake benchmark TSVs under ``benchmarks`` that are new or changed since ``before``
    (:func:`tsv_versions`): one row per file, columns ``benchmark`` (path relative to
    ``benchmarks``), ``s``, ``cpu_time``, ``max_rss`` (MB); a TSV of several repeats counts its
    largest row."""
    rows = []
    for tsv, version in tsv_versions(benchmarks).items():
        if before.get(tsv) == version:
            continue
        df = pd.read_csv(tsv, sep="\t", na_values=["-"])
        missing = {"s", "cpu_time", "max_rss"} - set(df.columns)
        if missing:
            raise ValueError(f"{tsv}: not a Snakemake benchmark file (no columns {sorted(missing)})")
        rows.append({"benchmark": str(tsv.relative_to(benchmarks)), "s": df["s"].max(),
                     "cpu_time": df["cpu_time"].max(), "max_rss": df["max_rss"].max()})
    return pd.DataFrame(rows, columns=["benchmark", "s", "cpu_time", "max_rss"])


def results_root(configfiles: Sequence[Path]) -> str:
    """``<results>/<dataset_profile>`` of config.yaml with ``configfiles`` merged over it (the
    keys are top-level, so a later file's value wins), relative to the working directory."""
    config: dict = {}
    for path in (REPO / "config.yaml", *configfiles):
        config.update(yaml.safe_load(Path(path).read_text()) or {})
    return f"{config['results']}/{config['dataset_profile']}"


def snakemake_command(target: str, cores: int, configfiles: Sequence[Path]) -> list[str]:
    """The Snakemake CLI on this repository's Snakefile (``--configfile`` last: it takes every
    following word as a config file)."""
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--cores", str(cores), target]
    return cmd + (["--configfile", *map(str, configfiles)] if configfiles else [])


def measure_run(name: str, cmd: Sequence[str], workdir: Path, benchmarks: Path) -> dict:
    """One row of dag.csv (without target/config columns): run ``cmd`` in ``workdir`` and read
    the benchmark TSVs it wrote under ``benchmarks``."""
    before = tsv_versions(benchmarks)
    log = workdir / f"bench_dag_{name}.log"
    stats = run_measured(cmd, workdir, log)
    text = log.read_text()
    if stats.returncode != 0:
        raise RuntimeError(f"{name} run failed (exit {stats.returncode}): {' '.join(cmd)}\n"
                           f"log {log} (a temporary folder is removed unless --keep), last lines:\n{text[-3000:]}")
    reasons = _REASON.findall(text)
    if name == "noop" and reasons:
        print(f"warning: the rerun was not a no-op ({len(reasons)} jobs had a reason to run, e.g. config.yaml or "
              f"code edited during the cold run); first reason: {reasons[0][:300]}", file=sys.stderr)
    jobs = job_benchmarks(benchmarks, before)
    peak = jobs.loc[jobs["max_rss"].idxmax()] if jobs["max_rss"].notna().any() else None
    return {"run": name, "returncode": stats.returncode, "wall_s": round(stats.wall_s, 3),
            "jobs": finished_jobs(text), "benchmarked_jobs": len(jobs),
            "job_seconds_sum": round(float(jobs["s"].sum()), 3),
            "job_cpu_seconds_sum": round(float(jobs["cpu_time"].sum()), 3),
            "job_max_rss_mb": None if peak is None else float(peak["max_rss"]),
            "job_max_rss_benchmark": None if peak is None else peak["benchmark"],
            "snakemake_max_rss_mb": round(stats.own_max_rss_mb, 1),
            "tree_max_rss_mb": round(stats.tree_max_rss_mb, 1)}



def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", default="tables", help="Snakemake target (default: tables)")
    ap.add_argument("--cores", type=int, default=2, help="snakemake --cores (default: 2)")
    ap.add_argument("--configfile", type=Path, nargs="*", default=[],
                    help="config files merged over config.yaml, e.g. tests/config/tiny.yaml")
    ap.add_argument("--workdir", type=Path,
                    help="empty or new folder to run in (default: a temporary folder, removed after the runs)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary working folder (its path is printed)")
    ap.add_argument("--out", type=Path, default=RESULTS_BENCH / "dag.csv", help="CSV to write")
    return ap.parse_args(argv)


def run_bench(args: argparse.Namespace) -> pd.DataFrame:
    """The cold run and the no-op rerun in one fresh working folder; writes and returns the table."""
    configfiles = [p.resolve() for p in args.configfile]
    for p in configfiles:
        if not p.is_file():
            raise FileNotFoundError(f"--configfile {p}: no such file")
    cmd = snakemake_command(args.target, args.cores, configfiles)
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        if any(args.workdir.iterdir()):
            raise ValueError(f"--workdir {args.workdir} is not empty: a cold run needs a fresh folder")
        workdir, tmp = args.workdir.resolve(), False
    else:
        workdir, tmp = Path(tempfile.mkdtemp(prefix="bench_dag_")), True
    try:
        benchmarks = workdir / results_root(configfiles) / "benchmarks"
        rows = [measure_run(name, cmd, workdir, benchmarks) for name in ("cold", "noop")]
    finally:
        if tmp and args.keep:
            print(f"working folder kept: {workdir}", file=sys.stderr)
        elif tmp:
            shutil.rmtree(workdir)
    df = pd.DataFrame(rows).assign(target=args.target, cores=args.cores,
                                   configfiles=";".join(str(p) for p in configfiles))[list(COLUMNS)]
    write_csv(df, args.out)
    return df


def main(argv: Sequence[str] | None = None) -> None:
    df = run_bench(parse_args(argv))
    print(df.to_string(index=False))


if __name__ == "__main__":
    main()
