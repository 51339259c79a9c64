"""The frame classifier g of CoLo-CAM (Belharbi et al., Sec. 3, "classifier g"; Sec. 4.1 "Implementation Details").

g = backbone encoder + classification scoring head, trained on single frames with cross-entropy against the video
label, then frozen; its low-resolution CAM C_t (LayerCAM in the paper, Sec. 4.1 "Baseline Methods") is upscaled to
the frame and used for pseudo-labels (Sec. 3.1, Algorithm 1). The paper uses ResNet50 (VGG16 and InceptionV3 in the
ablation of Tab. 6); here any backbone of :mod:`weakseg.features.backbones` is accepted, EfficientNet-Lite0 being
the offline default of the project.

What the authors' code does (sbelharbi/colo-cam, see /work/shared/notes/reference-implementations.md):

- ResNet50 with layer3 and layer4 at stride 1, so the last map is 28 x 28 for a 224 x 224 frame (stride 8). The
  registry reaches the same resolution with ``output_stride=8``, the default here, but DeepLab style: the convolutions
  after a removed stride are dilated (same receptive field as the ImageNet network). The authors' layers are not
  dilated, only un-strided. Same map size, different receptive field; the registry offers only the dilated variant.
- Head for the CAM methods CAM, GradCAM, GradCAM++, Smooth-GradCAM++, XGradCAM and LayerCAM: their ``WGAP`` pooling
  head, global average pooling then ``nn.Linear(C, K)`` (Xavier-uniform weights, zero bias), which is what
  :class:`FrameClassifier` implements.
- "Extra background map": the config key ``support_background: True`` of the authors' code. It only concerns their
  heads with built-in CAMs (``GAP``, ``MaxPool``, ``LogSumExpPool``, ``WildCatCLHead``): a 1 x 1 convolution makes
  K + 1 maps, map 0 standing for the background, each is pooled to a score, and score 0 is dropped before the
  cross-entropy (``logits[:, 1:]``), so the number of logits stays K. The ``WGAP`` head used with the six CAM
  methods above, LayerCAM included, ignores that key: it has no background map. CoLo-CAM's classifier CAMs come
  from LayerCAM, so the background map never takes part in CoLo-CAM; it is not implemented.
"""

from __future__ import annotations

import torch
from torch import nn

from weakseg.features.backbones import backbone_info, load_backbone


class LastFeatureMap(nn.Module):
    """A registry feature extractor over all stages (``body``: input -> list of maps, shallow to deep) reduced to
    its deepest map (B, C, h, w).

    This module is the layer the CAM methods hook: its output is the last feature map (for ResNet50 the output of
    layer4, i.e. its last ReLU, where the authors take LayerCAM). ``body`` returns every stage so that the same
    network also feeds the skip connections of CoLo-CAM's decoder (:meth:`FrameClassifier.encoder_maps`).
    """

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)[-1]


class FrameClassifier(nn.Module):
    """Frame classifier g: registry backbone -> last feature map -> global average pooling -> ``fc`` (K logits).

    ``backbone``: a name of :data:`weakseg.features.registry.BACKBONES` (``"resnet50"`` is the paper's,
    ``"efficientnet_lite0"`` works offline); ``weights``: ``"imagenet"`` or ``"random"`` (the registry's rule: real
    weights or an error saying how to get them). ``n_classes``: K (10 for YouTube-Objects). ``output_stride``: 8 (the
    authors' 28 x 28 map at 224 for ResNet50; see the module docstring for the dilation difference), 16, 32 or
    ``None`` (the backbone's own stride; InceptionV3 offers nothing else).

    Attributes used by :mod:`weakseg.methods.colocam.cams`: ``features`` (input (B, 3, H, W) ImageNet-normalised
    float -> last map (B, C, ~H / s, ~W / s)) and ``fc`` (``nn.Linear(C, K)``). ``forward`` returns the logits
    (B, K), before softmax. The model is built in eval mode; :meth:`freeze` fixes it for CoLo-CAM's decoder training.

    The encoder g of CoLo-CAM's U-Net (Sec. 3, Fig. 6) is this backbone: :meth:`encoder_maps` returns all its stage
    maps, ``encoder_channels`` their channel counts (the registry's ``BackboneInfo.channels``). The state dict is
    the same whichever maps the backbone returns (the registry keeps every layer up to the deepest stage), so a
    trained classifier loads into :class:`weakseg.methods.colocam.decoder.LocalizationNet` as it is.
    """

    def __init__(self, backbone: str, weights: str = "imagenet", n_classes: int = 10,
                 output_stride: int | None = 8) -> None:
        super().__init__()
        if n_classes < 1:
            raise ValueError(f"n_classes must be a positive number of classes, got {n_classes}")
        info = backbone_info(backbone)
        self.encoder_channels: tuple[int, ...] = info.channels
        self.features = LastFeatureMap(load_backbone(backbone, weights, out_indices=None,
                                                     output_stride=output_stride))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(info.channels[-1], n_classes)
        nn.init.xavier_uniform_(self.fc.weight)  # the authors' head initialisation
        nn.init.zeros_(self.fc.bias)
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_batch(x)
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))

    def encoder_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every stage map of the backbone for ``x`` (B, 3, H, W) ImageNet-normalised float, shallow to deep: map
        ``i`` is (B, ``encoder_channels[i]``, ~H / s_i, ~W / s_i) with the registry's strides capped at
        ``output_stride``. The last one is what ``features`` returns. Runs ``features.body`` directly, so hooks on
        ``features`` (the CAM methods') do not fire."""
        _check_batch(x)
        return list(self.features.body(x))

    def freeze(self) -> FrameClassifier:
        """Freeze g as CoLo-CAM does after its training: no parameter requires a gradient, eval mode (BatchNorm
        running statistics, no dropout). Returns ``self``."""
        self.requires_grad_(False)
        return self.eval()


def _check_batch(x: torch.Tensor) -> None:
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"x must be a batch of RGB images (B, 3, H, W), got shape {tuple(x.shape)}")
