"""The SSNM network (Sec. 3, Fig. 2): backbone, spatial and semantic modulators, segmentation sub-net.

For B groups of N images (input (B, N, 3, H, W), ImageNet-normalised):

1. the backbone gives four CFMs per image, fine to coarse (Sec. 4.1: HRNet or VGG16; any
   registry backbone here);
2. f_spa (Sec. 3.2) takes the fused CFMs -- every CFM resized to the resolution of
   ``spatial_stage`` and concatenated -- and returns one mask per image, the leading
   eigenvector of G (eq. 10), with l_spa (eq. 9);
3. f_sem (Sec. 3.3) takes the coarsest CFMs and returns gamma (R^d) and the co-category
   logits (eq. 11);
4. f_seg (Sec. 3.4): each CFM goes through a 1x1 lateral convolution to d channels (FPN) and is
   modulated, Y_c = gamma_c X_c + S (eq. 5, S resized to the CFM); the modulated maps are
   fused coarse to fine (upsample + add), then conv3x3 -> ReLU -> conv1x1 -> upsampling to
   (H, W) give the co-segmentation logits.

``use_spatial`` / ``use_semantic`` switch the modulators off for the Table 5 ablation (S = 0,
resp. gamma = 1, and their losses drop out of (14)).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from weakseg.features.backbones import backbone_info, load_backbone
from weakseg.methods.ssnm.semantic import SemanticModulator
from weakseg.methods.ssnm.spatial import SpatialModulator
from weakseg.training import freeze_batchnorm


@dataclass
class SSNMOutput:
    """logits (B, N, H, W) before the sigmoid; masks S (B, N, h, w) (zeros without f_spa);
    gamma (B, d) (ones without f_sem); category logits (B, L) (None without f_sem);
    l_spa (B,) (zeros without f_spa)."""

    logits: Tensor
    masks: Tensor
    gamma: Tensor
    category_logits: Tensor | None
    spatial_loss: Tensor


class SSNM(nn.Module):
    def __init__(self, backbone: str, weights: str, stages: Sequence[int], channels: int, num_categories: int,
                 spatial_stage: int, sem_reduced: int = 64, sem_group_reduced: int = 32, use_spatial: bool = True,
                 use_semantic: bool = True, sign_rule: str = "border") -> None:
        super().__init__()
        if len(stages) != 4 or spatial_stage not in range(4):
            raise ValueError(f"SSNM needs 4 backbone stages and spatial_stage in 0..3; got {list(stages)}, "
                             f"{spatial_stage}")
        info = backbone_info(backbone)
        self.info = info
        self.body = load_backbone(backbone, weights, out_indices=list(stages))
        in_channels = [info.channels[s] for s in stages]
        self.lateral = nn.ModuleList(nn.Conv2d(c, channels, 1) for c in in_channels)
        self.spatial_stage = spatial_stage
        self.use_spatial, self.use_semantic = use_spatial, use_semantic
        self.spatial = SpatialModulator(sign_rule=sign_rule) if use_spatial else None
        self.semantic = (SemanticModulator(in_channels[-1], channels, num_categories, sem_reduced, sem_group_reduced)
                         if use_semantic else None)
        self.head = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(inplace=True),
                                  nn.Conv2d(channels, 1, 1))

    def train(self, mode: bool = True) -> SSNM:
        """Train mode with the backbone's BatchNorm statistics frozen (batches of 2-4 groups of 5 images)."""
        super().train(mode)
        freeze_batchnorm(self.body)
        return self

    def forward(self, x: Tensor) -> SSNMOutput:
        b, n, _, h_in, w_in = x.shape
        cfms = self.body(x.flatten(0, 1))                                   # 4 x (B*N, c_i, h_i, w_i)
        size = cfms[self.spatial_stage].shape[-2:]
        if self.spatial is not None:
            fused = torch.cat([F.interpolate(c, size=size, mode="bilinear", align_corners=False) for c in cfms], 1)
            masks, l_spa = self.spatial(fused.view(b, n, *fused.shape[1:]))
        else:
            masks, l_spa = x.new_zeros(b, n, *size), x.new_zeros(b)
        if self.semantic is not None:
            gamma, category_logits = self.semantic(cfms[-1].view(b, n, *cfms[-1].shape[1:]))
        else:
            gamma, category_logits = x.new_ones(b, self.lateral[0].out_channels), None
        scale = gamma.repeat_interleave(n, 0)[:, :, None, None]             # (B*N, d, 1, 1)
        flat_masks = masks.reshape(b * n, 1, *size)
        fused_top = None
        for cfm, lateral in zip(reversed(cfms), reversed(self.lateral)):    # coarse to fine (FPN)
            y = scale * lateral(cfm) + F.interpolate(flat_masks, size=cfm.shape[-2:], mode="bilinear",
                                                     align_corners=False)
            if fused_top is not None:
                y = y + F.interpolate(fused_top, size=y.shape[-2:], mode="bilinear", align_corners=False)
            fused_top = y
        logits = F.interpolate(self.head(fused_top), size=(h_in, w_in), mode="bilinear", align_corners=False)
        return SSNMOutput(logits.view(b, n, h_in, w_in), masks, gamma, category_logits, l_spa)


def build_ssnm(cfg: Mapping, variant: Mapping, num_categories: int, weights: str | None = None) -> SSNM:
    """The network of config ``ssnm.network`` for one variant of ``ssnm.variants``."""
    backbone = variant.get("backbone", cfg["backbone"])
    stages = variant.get("stages", cfg["stages"])
    return SSNM(backbone, weights or cfg["weights"], stages, cfg["channels"], num_categories,
                cfg["spatial_stage"], cfg["sem_reduced"], cfg["sem_group_reduced"],
                use_spatial=variant.get("spatial", True), use_semantic=variant.get("semantic", True),
                sign_rule=cfg["sign_rule"])
