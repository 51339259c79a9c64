"""Which torch device runs the CNNs: the GPU when one is visible, the CPU otherwise."""

from __future__ import annotations

import torch

DEVICE_PREFERENCES = ("auto", "cpu", "cuda")


def pick_device(preference: str = "auto") -> torch.device:
    """The device for ``preference`` (config key ``device``).

    ``"auto"``: ``cuda`` if ``torch.cuda.is_available()`` else ``cpu``; ``"cpu"``: the CPU;
    ``"cuda"``: the (first visible) GPU, and a :class:`RuntimeError` if there is none.
    """
    if preference not in DEVICE_PREFERENCES:
        raise ValueError(f"device {preference!r} is not one of {list(DEVICE_PREFERENCES)}")
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if preference == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was asked for, but torch sees no CUDA GPU on this machine "
                           f"(torch {torch.__version__}, CUDA build {torch.version.cuda}); "
                           "use device 'auto' or 'cpu'")
    return torch.device(preference)
