"""profiles/slurm on a real single-node SLURM started here (issue #10): jobs that are no local rule are
submitted with sbatch, GPU rules (and only they) ask SLURM for a GPU, and the tables equal the local run's.
Needs root and Debian's slurm-wlm and munge (installed with apt-get when missing); skips otherwise."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml
from conftest import REPO, snakemake_cmd
from slurm.cluster import Cluster, install_packages, start
from test_reliability import _tables

PROFILE = REPO / "profiles" / "slurm" / "config.yaml"


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    if os.geteuid() != 0:
        pytest.skip("a local SLURM needs root (munged, slurmctld and slurmd are started by the test)")
    reason = install_packages()
    if reason:
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="weakseg-slurm-"))
    running = start(root)
    try:
        yield running
    finally:
        running.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def profile(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """profiles/slurm with its placeholders resolved for the test cluster (no accounts; its partition),
    status from squeue (no accounting, hence no sacct) polled every second."""
    profile = yaml.safe_load(PROFILE.read_text())
    del profile["default-resources"]["slurm_account"]
    profile["default-resources"]["slurm_partition"] = cluster.partition
    profile.update({"slurm-status-command": "squeue", "slurm-init-seconds-before-status-checks": 1,
                    "seconds-between-status-checks": 1})
    directory = tmp_path_factory.mktemp("profile")
    (directory / "config.yaml").write_text(yaml.safe_dump(profile))
    return directory


def _slurm_run(cluster: Cluster, profile: Path, workdir: Path, target: str) -> list[dict[str, str]]:
    """`snakemake <target>` with the profile as the workflow profile (it replaces profiles/default);
    the SLURM jobs it submitted (job name = the plugin's run ID), each checked: completed, one per job
    that wrote a benchmark (every rule that is no local rule does), a GPU exactly for the GPU rules."""
    run = subprocess.run(snakemake_cmd(target, "--workflow-profile", str(profile)), cwd=workdir, env=cluster.env,
                         capture_output=True, text=True, timeout=3600)
    assert run.returncode == 0, f"{run.stderr[-4000:]}\n{cluster.logs()}"
    run_id = re.search(r"SLURM run ID: (\S+)", run.stderr).group(1)
    jobs = [j for j in cluster.jobs() if j["JobName"] == run_id]
    assert jobs and {j["JobState"] for j in jobs} == {"COMPLETED"}
    assert len(jobs) == len(list((workdir / "results" / "synthetic" / "benchmarks").rglob("*.tsv")))
    gpu_rules = {rule for rule, res in yaml.safe_load(PROFILE.read_text())["set-resources"].items() if res.get("gpu")}
    gpus = {(_rule(j), j.get("TresPerJob")) for j in jobs}
    assert gpus == {(rule, "gres:gpu:1" if rule in gpu_rules else None) for rule, _ in gpus}
    return jobs


def _rule(job: dict[str, str]) -> str:
    """The rule of a job from the comment the plugin gives it: rule_<rule>[_wildcards_<values>]."""
    return re.fullmatch(r"rule_(\w+?)(?:_wildcards_.*)?", job["Comment"]).group(1)


def test_a_table_through_slurm_equals_the_local_one(cluster, profile, tiny_run, tmp_path):
    """SSNM Table 1: two datasets and a table (CPU jobs), a training and an evaluation (GPU jobs); in the default
    run (~50 s after the cluster is up)."""
    jobs = _slurm_run(cluster, profile, tmp_path, "ssnm_table1")
    assert sorted(_rule(j) for j in jobs) == ["ssnm_evaluate", "ssnm_train", "synthetic_dataset",
                                              "synthetic_dataset", "table"]
    tables = _tables(tmp_path)
    assert list(tables) == ["ssnm/table1.csv"]
    assert tables["ssnm/table1.csv"] == _tables(tiny_run)["ssnm/table1.csv"]


@pytest.mark.slow
def test_all_tables_through_slurm_equal_the_local_ones(cluster, profile, tiny_run, tmp_path):
    """The whole tiny `tables` run: every job of the local run is one SLURM job. Slow (a second tiny run, ~4-8 min
    on 2 cores, would push the test command past 15 min): `python -m pytest -q -m slow tests/test_slurm.py`."""
    jobs = _slurm_run(cluster, profile, tmp_path, "tables")
    assert len(jobs) == len(list((tiny_run / "results" / "synthetic" / "benchmarks").rglob("*.tsv")))
    assert len({_rule(j) for j in jobs}) >= 20
    assert _tables(tmp_path) == _tables(tiny_run)
