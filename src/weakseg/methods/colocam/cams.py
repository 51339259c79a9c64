"""Classifier CAMs C_t of CoLo-CAM (Belharbi et al., Sec. 3 "classifier g", Sec. 4.1 "Baseline Methods").

The frozen classifier's low-resolution CAM for the video's class, interpolated to the frame, feeds the pseudo-labels
(Sec. 3.1, Algorithm 1). The paper takes LayerCAM; CAM, GradCAM, GradCAM++, Smooth-GradCAM++ and XGradCAM are its
single-frame baselines (Tab. 1). All six come from torchcam (``torchcam.methods``), as in the authors' code, which
hooks the last ReLU of ResNet50's layer4 (``FrameClassifier.features`` here) and min-max normalises the map.

torchcam facts this module relies on (torchcam 0.5.0): gradient methods take ``scores`` (the logits) and call
``torch.autograd.grad`` from the summed class scores to the hooked map; Smooth-GradCAM++ instead re-runs the model on
``num_samples=4`` noisy copies of the last input (noise N(0, 0.3^2) in normalised-input units, drawn from torch's
global RNG); CAM reads the ``fc`` weights and, unlike the gradient methods, applies no ReLU. Two quirks of
torchcam, shared by the authors' copy of an older torchcam (tcam-wsol-video ``dlib/cams/gradcam.py``) and kept here
since the methods are not reimplemented: GradCAM++ leaves its alpha coefficients un-normalised (``alpha[mask].div_``
divides a copy), so its weights are sum(relu(g) * g^2); Smooth-GradCAM++ multiplies its weights with the activations
of the last noisy pass, not of the clean input (its activation hook stays on during the noisy passes).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchcam import methods
from torchcam.methods.core import _CAM

from weakseg.methods.colocam.variants import CAM_METHODS

NOISE_SEED = 0  # Smooth-GradCAM++'s input noise is drawn from this seed (global RNG state left untouched)

# Our method names -> torchcam extractor classes.
EXTRACTORS: dict[str, type[_CAM]] = {
    "cam": methods.CAM,
    "gradcam": methods.GradCAM,
    "gradcampp": methods.GradCAMpp,
    "smooth_gradcampp": methods.SmoothGradCAMpp,
    "xgradcam": methods.XGradCAM,
    "layercam": methods.LayerCAM,
}


@contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    """``model`` in eval mode inside the block; every submodule's own mode restored afterwards."""
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training


@contextmanager
def _gradient_from_last_map(features: nn.Module) -> Iterator[None]:
    """Inside the block, ``features`` runs without autograd and returns its map as a fresh leaf requiring grad.

    The gradient methods only need d(class score) / d(last map); cutting the graph there means no backbone graph is
    recorded (nor backbone gradients computed), whatever the parameters' ``requires_grad``. Must be entered before
    the torchcam extractor is built, so that torchcam's hooks see the leaf. The caller runs the model under
    ``torch.enable_grad()``, which restores the grad mode on exit even if the forward fails half-way.
    """
    def no_grad_in(module: nn.Module, args: tuple) -> None:
        torch.set_grad_enabled(False)

    def leaf_out(module: nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor:
        torch.set_grad_enabled(True)
        return output.detach().requires_grad_(True)

    handles = [features.register_forward_pre_hook(no_grad_in), features.register_forward_hook(leaf_out)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def _check_inputs(model: nn.Module, images: torch.Tensor, class_idx: torch.Tensor | Sequence[int] | np.ndarray,
                  method: str) -> list[int]:
    """Validate the arguments of :func:`class_activation_maps`; the class indices as a list of ints."""
    if method not in EXTRACTORS:
        raise ValueError(f"method {method!r} is not one of {list(CAM_METHODS)}")
    for name in ("features", "fc"):
        if not isinstance(getattr(model, name, None), nn.Module):
            raise ValueError(f"model must have a submodule {name!r} (the last feature map and the linear head, as "
                             "FrameClassifier has)")
    if not isinstance(model.fc, nn.Linear):
        raise ValueError(f"model.fc must be an nn.Linear over the pooled last map, got {type(model.fc).__name__}")
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] != 3 \
            or not images.is_floating_point():
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a float tensor (B, 3, H, W), got {shape}")
    idx = np.asarray(class_idx.cpu() if isinstance(class_idx, torch.Tensor) else class_idx)
    if idx.shape != (images.shape[0],) or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
        raise ValueError(f"class_idx must hold one integer class per image, shape ({images.shape[0]},); "
                         f"got shape {idx.shape}, dtype {idx.dtype}")
    n_classes = model.fc.out_features
    if idx.size and (idx.min() < 0 or idx.max() >= n_classes):
        raise ValueError(f"class_idx values must be in 0..{n_classes - 1}, got {idx.tolist()}")
    return [int(i) for i in idx]


def _raw_maps(model: nn.Module, images: torch.Tensor, classes: list[int], method: str) -> torch.Tensor:
    """torchcam's un-normalised maps (B, h, w) on ``model.features`` for ``classes``; hooks removed on exit."""
    if method == "cam":  # weights read from fc: no gradient at all
        with torch.no_grad(), EXTRACTORS[method](model, target_layer=model.features, fc_layer=model.fc) as extractor:
            model(images)
            return extractor(class_idx=classes, normalized=False)[0]
    devices = [images.device] if images.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), torch.inference_mode(False), torch.enable_grad(), \
            _gradient_from_last_map(model.features), EXTRACTORS[method](model, target_layer=model.features) as extractor:
        torch.manual_seed(NOISE_SEED)  # Smooth-GradCAM++ perturbs the input with noise: same noise, same CAM
        scores = model(images)
        return extractor(class_idx=classes, scores=scores, normalized=False)[0]


def _min_max(maps: torch.Tensor) -> torch.Tensor:
    """Per-map min-max normalisation of (B, H, W) to [0, 1]; a constant (or non-finite) map becomes all zeros, as
    the authors' ``normalize_scoremap`` does."""
    flat = maps.flatten(1)
    low, high = flat.amin(dim=1), flat.amax(dim=1)
    span = high - low
    valid = torch.isfinite(span) & (span > 0)
    scaled = (flat - low[:, None]) / torch.where(valid, span, torch.ones_like(span))[:, None]
    return torch.where(valid[:, None], scaled, torch.zeros_like(scaled)).view_as(maps)


def class_activation_maps(model: nn.Module, images: torch.Tensor,
                          class_idx: torch.Tensor | Sequence[int] | np.ndarray, method: str = "layercam"
                          ) -> torch.Tensor:
    """CAM of class ``class_idx[b]`` for each image ``images[b]``: float32 (B, H, W) in [0, 1], on the images' device.

    ``model``: a classifier with submodules ``features`` (the hooked layer: input -> last map (B, C, h, w)) and
    ``fc`` (``nn.Linear(C, K)`` after global average pooling), e.g. a
    :class:`~weakseg.methods.colocam.classifier.FrameClassifier`, on the images' device. ``images``: (B, 3, H, W)
    float, normalised as the backbone expects. ``class_idx``: (B,) integers in 0..K-1 (the video label, Sec. 3).
    ``method``: one of :data:`CAM_METHODS`; ``"layercam"`` is the paper's.

    The torchcam map at the last-map resolution is resized to (H, W) (bilinear, ``align_corners=False``) and then
    min-max normalised per image (a constant map gives zeros), so each map spans exactly [0, 1] at image resolution
    (wsolevaluation's order). torchcam's own normalisation of the low-resolution map, which the authors' code keeps
    before its resize, would change nothing after ours: bilinear interpolation commutes with per-image affine
    rescaling; without ours the resized maximum could fall short of 1. The
    model runs in eval mode (each module's mode is restored after), torchcam's hooks and ours are removed even on
    error, and gradients, for the gradient methods only, flow from the class scores to the last map and no further
    (parameters' ``.grad`` untouched). Callers may be inside ``torch.no_grad()`` or ``torch.inference_mode()``: the
    gradient methods switch autograd back on for their own computation only.
    """
    classes = _check_inputs(model, images, class_idx, method)
    if not classes:
        return images.new_zeros((0, *images.shape[2:]), dtype=torch.float32)
    with _eval_mode(model):
        raw = _raw_maps(model, images, classes, method)
    with torch.no_grad():
        resized = F.interpolate(raw[:, None].float(), size=images.shape[2:], mode="bilinear", align_corners=False)
        return _min_max(resized[:, 0])
