"""Training of one M-CNN / EM-Adapt variant (Sec. 3, 4.2-4.4).

Each SGD step takes one sample: the 10 sampled frames of one kept shot (Sec. 4.2: "each
mini-batch consists of the 10 frame samples of one shot") or ``image_batch`` weakly labelled
images (Sec. 4.4). The network's softmax on the (cropped, mirrored) batch feeds the latent-label
step of the variant, without gradient:

- ``motion``: Sec. 3.2 label prediction, energy (2) over the video's labels with the motion-GMM
  unary, the network unary weighted by alpha (1; 2 when fine-tuning) and the Potts term (3);
- ``motion_hard``: the motion segments themselves (label of the video on the segment);
- ``em_adapt``: EM-Adapt's adaptive-bias E-step (>= 20 % per present label, >= 40 % background).

Images always get the EM-Adapt step (Sec. 4.4). The loss is (1), the cross-entropy against the
latent labels with class weights min_j num_j / num_l (Sec. 4.2), averaged over pixels.
SGD with momentum 0.9, weight decay 5e-4, lr 1e-3 times 0.1 every ``lr_step_epochs`` epochs
(Sec. 4.2). A checkpoint after each epoch (:mod:`weakseg.training`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from weakseg.features.backbones import normalise, to_unit_tensor
from weakseg.methods.mcnn.data import ImageSample, ShotSample, random_crop
from weakseg.methods.mcnn.em_adapt import em_adapt_labels
from weakseg.methods.mcnn.fcn import FCN
from weakseg.methods.mcnn.label_inference import LabelInferenceParams, infer_labels
from weakseg.methods.mcnn.variants import Variant
from weakseg.methods.mcnn.weights import weight_vector
from weakseg.training import run_epochs

IGNORE = 255


@dataclass(frozen=True)
class LabelStep:
    """How latent labels are inferred for video samples (``labels`` of the variant) and its params."""

    kind: str
    inference: LabelInferenceParams
    em_adapt: Mapping[str, float]


def restricted(probs: np.ndarray, ids: Sequence[int]) -> np.ndarray:
    """Softmax (B, 1 + L, H, W) restricted to ``[background, *ids]`` and renormalised: (B, K, H, W)."""
    sub = probs[:, [0, *ids]]
    return sub / np.maximum(sub.sum(axis=1, keepdims=True), 1e-12)


def latent_labels(step: LabelStep, frames: np.ndarray, motion: np.ndarray | None, probs: np.ndarray,
                  ids: Sequence[int], frame_numbers: Sequence[int] | None) -> np.ndarray:
    """Latent labels (B, H, W) int64 in model ids for one batch.

    ``probs``: the network's softmax (B, 1 + L, H, W); ``motion``: bool (B, H, W) or None for
    images (which always take the EM-Adapt step); ``ids``: the sample's label ids.
    """
    lookup = np.asarray([0, *ids])
    if motion is None or step.kind == "em_adapt":
        sub = restricted(probs, ids)
        return np.stack([lookup[em_adapt_labels(p, **step.em_adapt)] for p in sub])
    if step.kind == "motion_hard":
        if len(ids) != 1:
            raise ValueError(f"motion segments as labels ('motion_hard') need single-label videos; got ids {ids}")
        return np.where(motion, ids[0], 0).astype(np.int64)
    k = infer_labels(frames, motion, restricted(probs, ids), np.asarray(frame_numbers), step.inference)
    return lookup[k]


def class_counts(samples: Sequence[ShotSample | ImageSample], n_classes: int) -> np.ndarray:
    """Training samples per model class id 1..L (index 0 unused)."""
    counts = np.zeros(1 + n_classes, dtype=np.int64)
    for s in samples:
        counts[list(s.label_ids)] += 1
    return counts


def class_weight_tensor(classes: Sequence[str], samples: Sequence[ShotSample | ImageSample],
                        device: torch.device) -> torch.Tensor:
    """Loss weights (1 + L,) of Sec. 4.2 over ``[background, *classes]``; a class without training
    samples keeps weight 1 (it never appears as a latent label)."""
    counts = class_counts(samples, len(classes))
    present = [c for i, c in enumerate(classes) if counts[1 + i] > 0]
    weights = np.ones(1 + len(classes))
    found = weight_vector(present, {c: int(counts[1 + classes.index(c)]) for c in present})
    weights[[1 + classes.index(c) for c in present]] = found[1:]
    return torch.tensor(weights, dtype=torch.float32, device=device)


def batches(shots: Sequence[ShotSample], images: Sequence[ImageSample], image_batch: int,
            rng: np.random.Generator) -> list[ShotSample | list[ImageSample]]:
    """One epoch's samples in random order: every shot, and the images in batches of ``image_batch``."""
    order = rng.permutation(len(images))
    image_batches = [[images[i] for i in order[k:k + image_batch]] for k in range(0, len(order), image_batch)]
    samples: list[ShotSample | list[ImageSample]] = [*shots, *image_batches]
    return [samples[i] for i in rng.permutation(len(samples))]


def sgd(model: FCN, cfg: Mapping[str, Any]) -> tuple[torch.optim.Optimizer, Any]:
    """SGD of Sec. 4.2 (lr, momentum, weight decay; the new head at ``head_lr_mult`` x lr as DeepLab)
    and the step decay."""
    groups = [{"params": list(model.body.parameters()), "lr": cfg["lr"]},
              {"params": list(model.head.parameters()), "lr": cfg["lr"] * cfg["head_lr_mult"]}]
    opt = torch.optim.SGD(groups, lr=cfg["lr"], momentum=cfg["momentum"], weight_decay=cfg["weight_decay"])
    return opt, torch.optim.lr_scheduler.StepLR(opt, step_size=cfg["lr_step_epochs"], gamma=cfg["lr_gamma"])


def _sample_arrays(sample: ShotSample | list[ImageSample]):
    if isinstance(sample, ShotSample):
        return (sample.frames, sample.motion), sample.label_ids, sample.shot.frame_numbers
    shapes = {im.image.shape for im in sample}
    if len(shapes) != 1:  # images of different sizes: one at a time through the crop
        raise ValueError(f"an image batch must share one size; got {sorted(shapes)}")
    return (np.stack([im.image for im in sample]),), None, None


def train_step(model: FCN, optimizer: torch.optim.Optimizer, sample: ShotSample | list[ImageSample],
               step: LabelStep, weights: torch.Tensor, crop: int, rng: np.random.Generator,
               device: torch.device) -> dict[str, float]:
    """One SGD step on one sample; returns its loss and the latent-label foreground fraction."""
    arrays, ids, frame_numbers = _sample_arrays(sample)
    cropped = random_crop(arrays, crop, rng)
    frames = cropped[0]
    x = normalise(to_unit_tensor(frames, device), model.info)
    logits = model.upsampled(x)
    probs = torch.softmax(logits.detach(), dim=1).cpu().numpy()
    if ids is None:  # an image batch: per-image label sets
        labels = np.stack([latent_labels(step, frames[i:i + 1], None, probs[i:i + 1], im.label_ids, None)[0]
                           for i, im in enumerate(sample)])
    else:
        labels = latent_labels(step, frames, cropped[1], probs, ids, frame_numbers)
    target = torch.from_numpy(labels).to(device)
    loss = F.cross_entropy(logits, target, weight=weights, ignore_index=IGNORE)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return {"loss": float(loss.detach()), "fg": float((labels > 0).mean())}


def train(model: FCN, variant: Variant, shots: Sequence[ShotSample], images: Sequence[ImageSample],
          cfg: Mapping[str, Any], epochs: int, seed: int, output: str, log: logging.Logger,
          device: torch.device) -> list[dict[str, float]]:
    """Train ``model`` in place for ``epochs`` epochs over ``shots`` and ``images`` (config section
    ``mcnn``), resuming from the per-epoch checkpoint of ``output`` if one exists."""
    if not shots and not images:
        raise ValueError(f"M-CNN variant {variant.name}: no training sample (no shot survived the pruning of "
                         "config 'mcnn.pruning' and no image); check the motion product and the pruning bounds")
    inference = dict(cfg["label_inference"])
    alpha = inference.pop(variant.alpha_key)
    inference.pop("alpha_finetune" if variant.alpha_key == "alpha" else "alpha")
    step = LabelStep(variant.labels, LabelInferenceParams(alpha=alpha, **inference), cfg["em_adapt"])
    weights = class_weight_tensor(model.classes, [*shots, *images], device)
    optimizer, scheduler = sgd(model, cfg["sgd"])

    def epoch(e: int, rng: np.random.Generator) -> dict[str, float]:
        stats = [train_step(model, optimizer, s, step, weights, cfg["network"]["crop"], rng, device)
                 for s in batches(shots, images, cfg["image_batch"], rng)]
        return {k: float(np.mean([s[k] for s in stats])) for k in ("loss", "fg")}

    return run_epochs(output, epochs, seed, model, optimizer, scheduler, epoch, log,
                      desc=f"{variant.name} seed {seed}")
