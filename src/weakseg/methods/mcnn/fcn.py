"""The M-CNN network (Sec. 3.1): a DeepLab-style fully convolutional network.

DeepLab (Chen et al., ICLR 2015) turns VGG16 into an FCN with output stride 8 (pool4/pool5
without stride, conv5 dilated) and replaces fc6/fc7/fc8 by convolutions. Its field of view
(FOV) is set by fc6's kernel and dilation: DeepLab-LargeFOV uses a 3x3 kernel with dilation 12
(FOV 224x224), the small-FOV model a 4x4 kernel with dilation 4 (FOV 128x128) (M-CNN Sec. 4.3).

Here the backbone comes from the registry (:mod:`weakseg.features.backbones`) dilated to
output stride 8, cut at ``stage``; the head is fc6 (k x k, dilation d) -> ReLU -> dropout ->
fc7 (1x1) -> ReLU -> dropout -> fc8 (1x1, 1 + L classes). Dilations are given at DeepLab's
training crop (321 px) and scaled with the crop actually used, so that the FOV covers the same
fraction of the input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from weakseg.features.backbones import backbone_info, load_backbone
from weakseg.training import freeze_batchnorm

OUTPUT_STRIDE = 8
DEEPLAB_CROP = 321  # DeepLab's training crop side, at which the FOV dilations are stated


@dataclass(frozen=True)
class FOV:
    """fc6 of a DeepLab head: ``kernel`` x ``kernel`` convolution with ``dilation`` at a 321-px crop."""

    kernel: int
    dilation: int

    def scaled_dilation(self, crop: int) -> int:
        """The dilation that keeps the FOV's fraction of a ``crop``-pixel input (at least 1)."""
        return max(1, round(self.dilation * crop / DEEPLAB_CROP))


class FCN(nn.Module):
    """Backbone at output stride 8 + DeepLab head; ``forward`` returns class scores.

    Input: float (B, 3, H, W) normalised with the backbone's mean/std. Output: logits
    (B, 1 + L, ceil(H / 8), ceil(W / 8)) over ``[background, *classes]``;
    :meth:`upsampled` returns them bilinearly resized to (H, W).
    """

    def __init__(self, classes: Sequence[str], backbone: str, weights: str, stage: int, fov: FOV,
                 crop: int, head_channels: int, dropout: float = 0.5) -> None:
        super().__init__()
        self.classes = tuple(classes)
        self.backbone_name = backbone
        self.info = backbone_info(backbone)
        self.body = load_backbone(backbone, weights, out_indices=[stage], output_stride=OUTPUT_STRIDE)
        dilation = fov.scaled_dilation(crop)
        pad = dilation * (fov.kernel - 1)
        self.head = nn.Sequential(
            # an even kernel (4x4) needs asymmetric padding to keep the map size
            nn.ZeroPad2d((pad // 2, pad - pad // 2, pad // 2, pad - pad // 2)),
            nn.Conv2d(self.info.channels[stage], head_channels, fov.kernel, dilation=dilation),
            nn.ReLU(inplace=True), nn.Dropout2d(dropout),
            nn.Conv2d(head_channels, head_channels, 1), nn.ReLU(inplace=True), nn.Dropout2d(dropout),
            nn.Conv2d(head_channels, 1 + len(self.classes), 1),
        )

    def train(self, mode: bool = True) -> FCN:
        """Train mode, except the backbone's BatchNorm layers, which keep their ImageNet statistics
        (a batch is 10 frames of one shot, too correlated to estimate them; DeepLab's VGG16 has none)."""
        super().train(mode)
        freeze_batchnorm(self.body)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x)[-1])

    def upsampled(self, x: torch.Tensor) -> torch.Tensor:
        """Logits at the input resolution, (B, 1 + L, H, W)."""
        return F.interpolate(self(x), size=x.shape[-2:], mode="bilinear", align_corners=False)

    def adopt_head(self, other: FCN) -> None:
        """Copy ``other``'s weights; fc8 rows are matched by class name (background first), so a
        10-class model can initialise a 20-class one (M-CNN Sec. 4.4); unmatched rows keep their
        initialisation."""
        own = self.state_dict()
        theirs = other.state_dict()
        last = f"head.{len(self.head) - 1}"
        for key, value in theirs.items():
            if not key.startswith(last):
                own[key] = value
        names = ("background", *other.classes)
        for i, name in enumerate(("background", *self.classes)):
            if name in names:
                j = names.index(name)
                own[f"{last}.weight"][i] = theirs[f"{last}.weight"][j]
                own[f"{last}.bias"][i] = theirs[f"{last}.bias"][j]
        self.load_state_dict(own)


def build_fcn(classes: Sequence[str], cfg: Mapping, fov: str, weights: str = "imagenet") -> FCN:
    """The FCN of config section ``mcnn.network`` for FOV variant ``fov`` (``large`` / ``small``)."""
    if fov not in cfg["fov"]:
        raise ValueError(f"unknown FOV {fov!r}; config 'mcnn.network.fov' defines {sorted(cfg['fov'])}")
    return FCN(classes, cfg["backbone"], weights, cfg["stage"], FOV(**cfg["fov"][fov]), cfg["crop"],
               cfg["head_channels"], cfg["dropout"])
