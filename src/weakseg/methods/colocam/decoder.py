"""The localizer f of CoLo-CAM (Belharbi et al., Sec. 3 "localizer f", Fig. 6): F-CAM's U-Net decoder on the frozen
classifier g.

f maps a frame X_t to two full-resolution maps S_t = f(X_t) in [0, 1]^(|Omega| x 2), softmax-normalised over the
channel axis: S_t^0 background, S_t^1 foreground (Sec. 3). Only f is trained; the classifier g (its encoder and
classification head) is frozen after its own training (Sec. 3, Fig. 1). At inference one forward pass gives the
foreground map for the box and, from g, the frame's class scores (Fig. 6, right).

Architecture, as the authors' code builds it (sbelharbi/colo-cam ``dlib/unet/decoder.py``, ``dlib/base/model.py``,
a segmentation_models_pytorch U-Net; see /work/shared/notes/reference-implementations.md):

- One up-block per encoder stage, widths (256, 128, 64, 32, 16) for five stages. The deepest stage map is the
  decoder input; block i upsamples by 2 (nearest), resizes to the skip map if the sizes differ (bilinear,
  ``align_corners=True``), concatenates the skip (encoder stage n - 2 - i, i.e. the stages from deep to shallow,
  the deepest excluded), then applies 2 x (conv 3 x 3 without bias + BatchNorm + ReLU). The last block has no skip
  left: it upsamples and convolves. With a stride-8 (dilated) encoder several stages share a resolution; the resize
  to the skip undoes the x2 there.
- Head: conv 3 x 3 (with bias) to 2 channels, logits resized to the input size (bilinear, ``align_corners=True``),
  then softmax over the 2 channels (the authors apply the softmax in their losses and at inference, on the
  resized logits).
- Initialisation (smp's): block convolutions Kaiming-uniform (fan-in, ReLU gain), BatchNorm weight 1 and bias 0;
  head Xavier-uniform with zero bias.
- The authors' encoder returns the input itself as an extra first "stage", which their decoder drops; the registry
  backbones return only real stages, so nothing is dropped here. Their VGG16 variant adds a "center" block
  (2 x conv-BN-ReLU on the deepest map), not built here.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from weakseg.methods.colocam.classifier import FrameClassifier

WIDTHS = (256, 128, 64, 32, 16)
N_MAPS = 2  # S^0 background, S^1 foreground


def _conv_bn_relu(in_channels: int, out_channels: int) -> list[nn.Module]:
    return [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True)]


class UpBlock(nn.Module):
    """x (B, in, h, w) -> nearest x2 -> [resize to the skip, concat skip (B, skip, h', w')] -> 2 x conv-BN-ReLU
    -> (B, out, h', w') (or (B, out, 2h, 2w) without a skip)."""

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int) -> None:
        super().__init__()
        self.convs = nn.Sequential(*_conv_bn_relu(in_channels + skip_channels, out_channels),
                                   *_conv_bn_relu(out_channels, out_channels))

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        if skip is not None:
            if x.shape[-2:] != skip.shape[-2:]:
                x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=True)
            x = torch.cat([x, skip], dim=1)
        return self.convs(x)


class FCAMDecoder(nn.Module):
    """F-CAM / CoLo-CAM U-Net decoder: encoder stage maps -> S (B, 2, H, W), softmax over dim 1.

    ``encoder_channels``: channels of the n encoder stages, shallow to deep; ``widths``: output channels of the n
    up-blocks (one per stage, as in the authors' code). Block i takes skip stage n - 2 - i (i < n - 1); the last
    block has none. Learnable parameters: for each block with input c_in, skip c_s, width w,
    9 w (c_in + c_s) + 9 w^2 + 4 w (two bias-free 3 x 3 convs, two BatchNorms), plus the head 9 * 2 * w_last + 2.
    """

    def __init__(self, encoder_channels: Sequence[int], widths: Sequence[int] = WIDTHS) -> None:
        super().__init__()
        encoder_channels, widths = tuple(encoder_channels), tuple(widths)
        if not encoder_channels or any(int(c) != c or c < 1 for c in encoder_channels):
            raise ValueError(f"encoder_channels must be positive channel counts, got {encoder_channels}")
        if len(widths) != len(encoder_channels) or any(int(w) != w or w < 1 for w in widths):
            raise ValueError(f"widths must be {len(encoder_channels)} positive channel counts (one up-block per "
                             f"encoder stage), got {widths}")
        self.encoder_channels = encoder_channels
        skips = encoder_channels[-2::-1] + (0,)  # deep to shallow, the deepest map excluded; last block: none
        inputs = (encoder_channels[-1],) + widths[:-1]
        self.blocks = nn.ModuleList(UpBlock(c_in, c_skip, w) for c_in, c_skip, w in zip(inputs, skips, widths))
        self.head = nn.Conv2d(widths[-1], N_MAPS, kernel_size=3, padding=1)
        for m in self.blocks.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_uniform_(m.weight, mode="fan_in", nonlinearity="relu")
        nn.init.xavier_uniform_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, maps: Sequence[torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
        """``maps``: the n encoder maps, shallow to deep, map i (B, encoder_channels[i], h_i, w_i) float;
        ``size``: (H, W) of the input frame. Returns S (B, 2, H, W) float, S[:, 0] background and S[:, 1]
        foreground probabilities, summing to 1 at each pixel."""
        if len(maps) != len(self.encoder_channels) \
                or any(m.ndim != 4 or m.shape[1] != c for m, c in zip(maps, self.encoder_channels)):
            raise ValueError(f"maps must be {len(self.encoder_channels)} (B, C, h, w) tensors with C = "
                             f"{self.encoder_channels}, got shapes {[tuple(m.shape) for m in maps]}")
        if len(size) != 2 or any(int(s) != s or s < 1 for s in size):
            raise ValueError(f"size must be the input (H, W) in pixels, got {size}")
        size = (int(size[0]), int(size[1]))
        x, skips = maps[-1], maps[-2::-1]
        for i, block in enumerate(self.blocks):
            x = block(x, skips[i] if i < len(skips) else None)
        logits = self.head(x)
        if logits.shape[-2:] != size:
            logits = F.interpolate(logits, size=size, mode="bilinear", align_corners=True)
        return torch.softmax(logits, dim=1)


class LocalizationNet(nn.Module):
    """CoLo-CAM's model {theta', theta} (Sec. 3, Fig. 6): the frozen classifier g (encoder + head) and the
    trainable decoder f on g's stage maps.

    ``classifier`` is frozen in place (:meth:`FrameClassifier.freeze`) and stays in eval mode whatever
    :meth:`train` is asked (BatchNorm running statistics of g never move); its maps are computed under
    ``torch.no_grad()``, so no gradient reaches g. ``widths``: the decoder's up-block widths, one per encoder stage.
    Submodules: ``classifier`` (its state dict is a :class:`FrameClassifier`'s, prefixed ``classifier.``) and
    ``decoder`` (:class:`FCAMDecoder`).
    """

    def __init__(self, classifier: FrameClassifier, widths: Sequence[int] = WIDTHS) -> None:
        super().__init__()
        self.classifier = classifier.freeze()
        self.decoder = FCAMDecoder(classifier.encoder_channels, widths)

    def train(self, mode: bool = True) -> LocalizationNet:
        super().train(mode)
        self.classifier.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` (B, 3, H, W) ImageNet-normalised float -> S (B, 2, H, W): background / foreground probabilities
        (softmax over dim 1)."""
        with torch.no_grad():
            maps = self.classifier.encoder_maps(x)
        return self.decoder(maps, (x.shape[-2], x.shape[-1]))

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` (B, 3, H, W) ImageNet-normalised float -> the frozen classifier's logits (B, K), before softmax."""
        with torch.no_grad():
            return self.classifier(x)

    def decoder_parameters(self) -> list[nn.Parameter]:
        """The trainable parameters (theta, the decoder's): what the optimiser gets."""
        return [p for p in self.parameters() if p.requires_grad]
