"""A throwaway single-node SLURM cluster (munged, slurmctld, slurmd from Debian's slurm-wlm and munge
packages) in a temporary directory, for tests/test_slurm.py. Root only: slurmd starts jobs as their user."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

HERE = Path(__file__).resolve().parent
BINARIES = ("mungekey", "munged", "slurmctld", "slurmd", "sbatch", "srun", "squeue", "scontrol", "sinfo", "scancel")
PACKAGES = ("slurm-wlm", "munge")
PARTITION = "test"


def _which(name: str) -> str | None:
    """The binary on PATH or in the sbin directories (which a non-login root shell may lack)."""
    return shutil.which(name, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")


def missing_binaries() -> list[str]:
    return [b for b in BINARIES if not _which(b)]


def install_packages() -> str | None:
    """Install slurm-wlm and munge with apt-get when their binaries are missing (root only).
    None when everything is there afterwards, else why not (for a skip message)."""
    if not missing_binaries():
        return None
    if os.geteuid() != 0:
        return f"{', '.join(missing_binaries())} missing and not root (apt-get install {' '.join(PACKAGES)})"
    if not shutil.which("apt-get"):
        return f"{', '.join(missing_binaries())} missing and no apt-get"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "-y", "-q", "install", *PACKAGES]
    run = subprocess.run(install, capture_output=True, text=True, env=env, timeout=900)
    if run.returncode != 0:  # a fresh container has no package lists yet
        subprocess.run(["apt-get", "-q", "update"], capture_output=True, env=env, timeout=900)
        run = subprocess.run(install, capture_output=True, text=True, env=env, timeout=900)
    if missing_binaries():
        return f"apt-get install {' '.join(PACKAGES)} failed: {run.stderr.strip()[-500:]}"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    """A running cluster: ``env`` points SLURM's client commands (and the jobs, which inherit it) at
    ``conf``; ``gpus`` count-only GPUs on the one node; ``stop()`` cancels its jobs, ends the daemons."""

    root: Path
    conf: Path
    gpus: int
    partition: str = PARTITION
    procs: list[subprocess.Popen] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf), "PATH": f"{self.root / 'bin'}:{os.environ['PATH']}"}

    def logs(self) -> str:
        """The tail of every daemon's log and captured output."""
        return "\n".join(f"== {p.name}\n{p.read_text()[-3000:]}" for p in sorted((self.root / "log").iterdir()))

    def jobs(self) -> list[dict[str, str]]:
        """Every job slurmctld still remembers (MinJobAge: all of a test's), as ``scontrol -o show job``'s
        key=value fields (JobId, JobState, Comment, TresPerJob, NumCPUs, ...)."""
        out = subprocess.run(["scontrol", "-o", "show", "job"], capture_output=True, text=True, env=self.env,
                             check=True, timeout=60).stdout
        return [dict(re.findall(r"(?:^|\s)([\w/:]+)=(\S*)", line)) for line in out.splitlines() if line.strip()]

    def stop(self) -> None:
        """Cancel the jobs still queued or running (a failed or timed-out test leaves them), wait for
        them to end, then stop the daemons."""
        try:
            subprocess.run(["scancel", "--partition", self.partition], env=self.env, capture_output=True, timeout=60)
            squeue = ["squeue", "-h", "--states=PENDING,RUNNING,COMPLETING"]
            _wait(self, lambda: not subprocess.run(squeue, capture_output=True, text=True, env=self.env).stdout.strip(),
                  60, "the cancelled jobs to end")
        finally:
            self._terminate()

    def _terminate(self) -> None:
        for proc in reversed(self.procs):  # slurmd, slurmctld, then munged
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()


def start(root: Path, timeout: float = 60) -> Cluster:
    """munged with a fresh key, slurmctld and slurmd, all in the foreground as children of this process,
    configured from tests/slurm/{slurm,gres}.conf under ``root``; returns once the node is idle. The node
    has this machine's CPUs and memory and as many count-only GPUs as CPUs: a GPU job never waits for a
    GPU while a CPU is free (the builtin scheduler would hold every later job behind it). munged
    insists on world-searchable directories above its socket: ``root`` from tempfile.mkdtemp() works,
    pytest's tmp_path (mode 0700) does not. Raises RuntimeError with the daemons' logs when it does not get there within ``timeout`` seconds."""
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)  # munged wants every directory above its socket world-searchable
    for d in ("munge", "run", "spool", "state", "log", "dev", "bin"):
        (root / d).mkdir(exist_ok=True)
    (root / "munge").chmod(0o700)
    (root / "run").chmod(0o755)
    host = socket.gethostname().split(".")[0]
    node = subprocess.run([_which("slurmd"), "-C"], capture_output=True, text=True, check=True).stdout.splitlines()[0]
    gpus = int(re.search(r"\bCPUs=(\d+)", node).group(1))
    for i in range(gpus):
        (root / "dev" / f"nvidia{i}").symlink_to("/dev/null")
    fields = {"root": str(root), "host": host, "node": node, "gpus": gpus, "last_gpu": gpus - 1,
              "partition": PARTITION, "ctld_port": _free_port(), "slurmd_port": _free_port()}
    conf = root / "slurm.conf"
    for name in ("slurm.conf", "gres.conf"):
        (root / name).write_text(Template((HERE / name).read_text()).substitute(fields))
    cluster = Cluster(root=root, conf=conf, gpus=gpus)
    # Inside a job, snakemake-executor-plugin-slurm-jobstep (0.6.1) runs the rule with `srun` in an
    # environment stripped of SLURM_* variables, SLURM_CONF included; a cluster's slurm.conf sits at the
    # default path, this one does not. So the jobs find an `srun` first on PATH that sets it again.
    srun = root / "bin" / "srun"
    srun.write_text(f'#!/bin/sh\nSLURM_CONF={conf} exec {_which("srun")} "$@"\n')
    srun.chmod(0o755)

    key = root / "munge" / "munge.key"
    subprocess.run([_which("mungekey"), "--create", f"--keyfile={key}"], check=True, capture_output=True)
    daemons = [
        [_which("munged"), "--foreground", f"--key-file={key}", f"--socket={root}/run/munge.socket",
         f"--pid-file={root}/run/munged.pid", f"--log-file={root}/log/munged.log", f"--seed-file={root}/munge/seed"],
        [_which("slurmctld"), "-D", "-f", str(conf)],
        [_which("slurmd"), "-D", "-f", str(conf)],
    ]
    try:
        for argv in daemons:
            with open(root / "log" / f"{Path(argv[0]).name}.out", "w") as out:
                cluster.procs.append(subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=cluster.env))
            if argv[0].endswith("munged"):
                _wait(cluster, lambda: (root / "run" / "munge.socket").exists(), timeout, "munged's socket")
        _wait(cluster, lambda: _node_state(cluster) == "idle", timeout, "the node to become idle")
    except BaseException:
        cluster._terminate()
        raise
    return cluster


def _node_state(cluster: Cluster) -> str:
    run = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, env=cluster.env, timeout=30)
    return run.stdout.strip()


def _wait(cluster: Cluster, ready, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        for proc in cluster.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}\n{cluster.logs()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}\n{cluster.logs()}")
        time.sleep(0.2)
