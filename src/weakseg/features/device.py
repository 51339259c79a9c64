"""Which torch device runs the CNNs: the GPU when one is visible, the CPU otherwise.

On a machine with several visible GPUs, each job claims one of them for its lifetime
(:func:`claim_gpu`: an exclusive ``flock`` on ``<tmp>/weakseg-gpus/<index>.lock``, released by
the kernel when the process ends), so ``snakemake --resources gpu=4`` runs four GPU jobs at once,
one per device. Under SLURM, ``CUDA_VISIBLE_DEVICES`` already shows a job only its own GPU(s).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from pathlib import Path
from typing import IO

import torch

DEVICE_PREFERENCES = ("auto", "cpu", "cuda")
LOCK_DIR = Path(tempfile.gettempdir()) / "weakseg-gpus"
_claimed: dict[int, IO[str]] = {}  # device index -> the open lock file held by this process


def claim_gpu(n_devices: int, lock_dir: Path = LOCK_DIR, timeout: float = 3600.0, poll: float = 1.0) -> int:
    """Index of a GPU among ``n_devices`` that no other weakseg process holds; held until this process ends.

    Waits (polling every ``poll`` s) while all are held, up to ``timeout`` s (then RuntimeError).
    A process asking twice gets the device it holds.
    """
    if _claimed:
        return next(iter(_claimed))
    lock_dir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    while True:
        for index in range(n_devices):
            handle = open(lock_dir / f"{index}.lock", "w")  # noqa: SIM115 (held for the process lifetime)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            _claimed[index] = handle
            return index
        if time.monotonic() > deadline:
            raise RuntimeError(f"all {n_devices} GPUs are held by other weakseg jobs (locks in {lock_dir}) after "
                               f"{timeout:.0f} s; run at most that many GPU jobs (snakemake --resources gpu={n_devices})")
        time.sleep(poll)


def pick_device(preference: str = "auto") -> torch.device:
    """The device for ``preference`` (config key ``device``).

    ``"auto"``: a GPU if ``torch.cuda.is_available()`` else ``cpu``; ``"cpu"``: the CPU;
    ``"cuda"``: a GPU, and a :class:`RuntimeError` if there is none. With several visible GPUs the
    job gets one no other weakseg job holds (:func:`claim_gpu`).
    """
    if preference not in DEVICE_PREFERENCES:
        raise ValueError(f"device {preference!r} is not one of {list(DEVICE_PREFERENCES)}")
    if preference == "cpu" or (preference == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was asked for, but torch sees no CUDA GPU on this machine "
                           f"(torch {torch.__version__}, CUDA build {torch.version.cuda}); "
                           "use device 'auto' or 'cpu'")
    count = torch.cuda.device_count()
    return torch.device("cuda", claim_gpu(count) if count > 1 else 0)
