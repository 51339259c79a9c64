"""The segmentation network of Pinheiro & Collobert (Sec. 3, Table 1).

A frozen pretrained feature extractor (the paper: the first 6 convolutions and 2 poolings of
OverFeat; here the first stages of a registry backbone, dilated so that the output keeps a fine
stride) followed by four trainable 3x3 convolutions, eq. 1: ReLU after the first three, dropout
0.5 on the input of every layer, the last giving |C| + 1 score planes (background first).
The paper's layers are unpadded (29 -> 27 -> 25 -> 23); on the small synthetic inputs they are
padded (the output keeps the feature map's size).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from weakseg.features.backbones import backbone_info, load_backbone


class MILNet(nn.Module):
    """Input float (B, 3, H, W) normalised for the backbone -> scores (B, 1 + |C|, h, w)."""

    def __init__(self, classes: Sequence[str], backbone: str, weights: str, stage: int, output_stride: int | None,
                 channels: Sequence[int], dropout: float = 0.5, padding: int = 1) -> None:
        super().__init__()
        self.classes = tuple(classes)
        self.info = backbone_info(backbone)
        self.body = load_backbone(backbone, weights, out_indices=[stage], output_stride=output_stride)
        for p in self.body.parameters():
            p.requires_grad_(False)
        widths = [self.info.channels[stage], *channels, 1 + len(self.classes)]
        layers: list[nn.Module] = []
        for i, (cin, cout) in enumerate(zip(widths[:-1], widths[1:])):
            layers += [nn.Dropout2d(dropout), nn.Conv2d(cin, cout, 3, padding=padding)]
            if i < len(widths) - 2:
                layers.append(nn.ReLU(inplace=True))
        self.head = nn.Sequential(*layers)

    def train(self, mode: bool = True) -> MILNet:
        """The frozen extractor always runs in eval mode (its BatchNorm statistics stay ImageNet's)."""
        super().train(mode)
        self.body.eval()
        return self

    def forward(self, x: Tensor) -> Tensor:
        with torch.no_grad():
            features = self.body(x)[-1]
        return self.head(features)


def build_milnet(classes: Sequence[str], cfg: Mapping, weights: str | None = None) -> MILNet:
    """The network of config section ``mil.network``."""
    return MILNet(classes, cfg["backbone"], weights or cfg["weights"], cfg["stage"], cfg["output_stride"],
                  cfg["channels"], cfg["dropout"], cfg["padding"])
