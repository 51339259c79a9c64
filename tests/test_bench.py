"""Smoke tests of the benchmark scripts under bench/: each runs on a tiny input and writes its CSV
with the documented columns. Speed itself is measured by the scripts, never here."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import pandas as pd
from conftest import REPO


def _script(name: str):
    """Import bench/<name>.py (bench/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module   # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


def test_bench_mcnn_labels_writes_both_implementations_per_size(tiny_config: dict, tmp_path: Path):
    from weakseg.data.synthetic import generate

    bench = _script("bench_mcnn_labels")
    generate("syn_yto", tiny_config["synthetic"], tmp_path / "syn_yto")
    out = tmp_path / "bench" / "mcnn_labels.csv"
    bench.main(["--data", str(tmp_path / "syn_yto"), "--shots", "1", "--frames", "4", "--sizes", "native", "24x32",
                "--iterations", "1", "--repeats", "1", "--out", str(out)])
    df = pd.read_csv(out)
    assert list(df.columns) == [*bench.COLUMNS, *_script("common").MACHINE_COLUMNS]
    assert list(zip(df["frame_size"], df["impl"])) == [("72x96", "grabcut"), ("72x96", "mcnn"),
                                                        ("24x32", "grabcut"), ("24x32", "mcnn")]
    assert (df["frames"] == 4).all() and (df["shots"] == 1).all() and (df["iterations"] == 1).all()
    assert (df["threads"] == 1).all() and (df["seconds"] > 0).all()
    assert (df.query("impl == 'grabcut'")[["ratio_vs_grabcut", "agreement_vs_grabcut"]] == 1).all().all()
    assert df["agreement_vs_grabcut"].between(0, 1).all() and df["agreement_vs_motion"].between(0, 1).all()
    assert [p.name for p in out.parent.iterdir()] == ["mcnn_labels.csv"]   # no temporary file left


FAKE_SNAKEMAKE = textwrap.dedent("""\
    # Stands in for `snakemake tables`: the first run "builds" one benchmarked job and one
    # aggregating job, the second finds nothing to do.
    import time
    from pathlib import Path

    tsv = Path("results/synthetic/benchmarks/data/syn_x.tsv")
    time.sleep(0.3)
    if tsv.exists():
        print("Nothing to be done (all requested files are present and up to date).")
    else:
        tsv.parent.mkdir(parents=True)
        tsv.write_text("s\\th:m:s\\tmax_rss\\tmax_vms\\tmax_uss\\tmax_pss\\tio_in\\tio_out\\tmean_load\\tcpu_time\\n"
                       "2.50\\t0:00:02\\t123.40\\t300\\t100\\t110\\t0\\t0\\t0\\t1.25\\n")
        print("1 of 2 steps (50%) done")
        print("2 of 2 steps (100%) done")
    """)


def test_bench_dag_measures_a_cold_and_a_noop_run(tmp_path: Path, monkeypatch):
    """bench_dag on a faked Snakemake (the tiny profile's real run takes minutes): process
    measurement, log parsing, benchmark TSVs of the run only, CSV columns."""
    bench = _script("bench_dag")
    fake = tmp_path / "fake_snakemake.py"
    fake.write_text(FAKE_SNAKEMAKE)
    monkeypatch.setattr(bench, "snakemake_command", lambda target, cores, configfiles: [sys.executable, str(fake)])
    out = tmp_path / "dag.csv"
    bench.main(["--workdir", str(tmp_path / "work"), "--out", str(out)])
    df = pd.read_csv(out).set_index("run")
    assert list(df.reset_index().columns) == [*bench.COLUMNS, *_script("common").MACHINE_COLUMNS]
    assert list(df.index) == ["cold", "noop"]
    cold, noop = df.loc["cold"], df.loc["noop"]
    assert (cold["jobs"], cold["benchmarked_jobs"], noop["jobs"], noop["benchmarked_jobs"]) == (2, 1, 0, 0)
    assert (cold["job_seconds_sum"], cold["job_cpu_seconds_sum"], cold["job_max_rss_mb"]) == (2.5, 1.25, 123.4)
    assert cold["job_max_rss_benchmark"] == "data/syn_x.tsv" and pd.isna(noop["job_max_rss_mb"])
    assert (df["wall_s"] >= 0.3).all() and (df["returncode"] == 0).all() and (df["target"] == "tables").all()
    assert (df["snakemake_max_rss_mb"] > 1).all() and (df["tree_max_rss_mb"] >= df["snakemake_max_rss_mb"]).all()
