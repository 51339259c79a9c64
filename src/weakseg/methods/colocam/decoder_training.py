"""Training of the localization decoder f with the total loss of CoLo-CAM (eq. 5), for every trained variant.

eq. 5: ``sum_{p in Omega'_t} H_p(Y_t, S_t) + lambda R(S_t, X_t) + R_s(S_t) + lambda_c / |[R_c]| R_c(F^{t,n}, M^{t,n})``

* ``pl``: partial cross-entropy on the pseudo-labels ``Y_t`` resampled at every step from the frozen classifier's
  CAM (eq. 1, Algorithm 1; TCAM: from the max of the CAMs of the frame and its predecessors);
* ``crf``: dense CRF loss, position + colour kernel (eq. 2), weight lambda;
* ``asc``: absolute size constraint with the extended log-barrier (eq. 3), ``t`` raised once per epoch;
* ``coloc``: colour-only CRF over the n frames of a group (eq. 4), adaptive weight (eq. 5) or a constant one.

The CRF terms are computed exactly (O(N^2), :mod:`weakseg.crf`) or in O(N) on a Gaussian grid
(:mod:`weakseg.crf_fast`, config ``colocam.loss.kernel: grid``) on the maps and frames resized to
``colocam.loss.resolution`` (bilinear maps, area-averaged frames), the other terms at the input size.
Batches: ``batch_size // n`` groups of n frames; a group's shot is drawn with probability proportional to its
number of central frames, its frames by the variant's sampling (Table 5) inside the central ``shot_fraction`` of
the shot (authors' code). An epoch has as many steps as it takes to see that many frames (Sec. 4.1: 10 epochs).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from weakseg.crf import adaptive_weight, dense_crf_loss, multi_frame_colour_crf_loss
from weakseg.crf_fast import dense_crf_loss_fast, multi_frame_colour_crf_loss_fast
from weakseg.features.backbones import backbone_info
from weakseg.methods.colocam.classifier_training import EncoderMaps, load_classifier
from weakseg.methods.colocam.decoder import LocalizationNet
from weakseg.methods.colocam.frames import Shot, central_range, drop_shots, previous_positions, sample_frames
from weakseg.methods.colocam.inputs import FrameStore, network_batch, rgb_255
from weakseg.methods.colocam.loss_scaling import constant_lambda_c, crf_at_resolution
from weakseg.methods.colocam.losses import BarrierSchedule, partial_cross_entropy, size_constraint_loss
from weakseg.methods.colocam.pseudo_labels import (
    AUTHORS_CODE,
    PAPER,
    TCAM_FCAM,
    PseudoLabelConfig,
    sample_pseudo_labels,
    temporal_max_pool,
)
from weakseg.methods.colocam.variants import Variant
from weakseg.training import finish, load, run_epochs

PSEUDO_LABELS: dict[str, PseudoLabelConfig] = {"paper": PAPER, "authors_code": AUTHORS_CODE, "tcam_fcam": TCAM_FCAM}


CRF_KERNELS = {  # config colocam.loss.kernel: how eqs. 2 and 4 are summed
    "exact": (dense_crf_loss, multi_frame_colour_crf_loss),  # O(N^2), weakseg.crf
    "grid": (dense_crf_loss_fast, multi_frame_colour_crf_loss_fast),  # O(N) Gaussian grid, weakseg.crf_fast (<= 1 %)
}


def pseudo_label_cam(shot: Shot, position: int, window: int, cams: Mapping[str, np.ndarray]) -> np.ndarray:
    """The CAM the seeds of frame ``position`` of ``shot`` are drawn from: its own (window 1), or TCAM's max over
    it and its ``window - 1`` predecessors in the shot. float (H, W) in [0, 1]."""
    if window == 1:
        return cams[shot.items[position]]
    return temporal_max_pool(np.stack([cams[shot.items[q]] for q in previous_positions(position, window)]))


def decoder_loss(probs: torch.Tensor, rgb: torch.Tensor, seeds: torch.Tensor, groups: Sequence[Sequence[int]],
                 v: Variant, loss_cfg: Mapping[str, Any], t: float) -> tuple[torch.Tensor, dict[str, float]]:
    """eq. 5 for one batch and its parts (floats, for the log; ``coloc_raw`` = R_c before weighting).

    probs: float (B, 2, H, W) decoder maps; rgb: float (B, 3, H, W) frames in 0..255; seeds: int (B, H, W) in
    {-1, 0, 1}; groups: the frame indices of each group of n frames (the CoLoc term couples a group's frames).
    """
    parts: dict[str, float] = {}
    total = partial_cross_entropy(probs, seeds)
    parts["pl"] = float(total.detach())
    if {"crf", "coloc"} & set(v.terms):  # the CRF terms work at the loss resolution
        small = F.interpolate(probs, size=tuple(loss_cfg["resolution"]), mode="bilinear", align_corners=False)
        small_rgb = F.interpolate(rgb, size=tuple(loss_cfg["resolution"]), mode="area")
    dense, coloc = CRF_KERNELS[loss_cfg.get("kernel", "exact")]
    if "crf" in v.terms:
        term = dense(small, small_rgb, *crf_at_resolution(loss_cfg))
        total = total + term
        parts["crf"] = float(term.detach())
    if "asc" in v.terms:
        size = loss_cfg["size"]
        term = size_constraint_loss(probs, t, size["weight"])
        total = total + term
        parts["asc"] = float(term.detach())
    if "coloc" in v.terms:
        raw = torch.stack([coloc(small[list(g)], small_rgb[list(g)], loss_cfg["coloc_sigma_rgb"])
                           for g in groups]).mean()
        term = adaptive_weight(raw, v.lambda_c) if v.adaptive else constant_lambda_c(loss_cfg) * raw
        total = total + term
        parts["coloc"], parts["coloc_raw"] = float(term.detach()), float(raw.detach())
    return total, parts


class BatchSampler:
    """Draws the training batches of a variant (module docstring): frames, their pseudo-label seeds, groups."""

    def __init__(self, shots: Sequence[Shot], cams: Mapping[str, np.ndarray], v: Variant,
                 cfg: Mapping[str, Any]) -> None:
        dec = cfg["decoder"]
        missing = sorted({i for s in shots for i in s.items} - set(cams))
        if missing:
            raise ValueError(f"the CAM cache lacks {len(missing)} training frames (e.g. {missing[0]!r}): it was built "
                             "for other shots or splits; delete it to rebuild (snakemake reruns colocam_cams)")
        self.shots, self.cams, self.v = list(shots), cams, v
        self.windows = [central_range(len(s.items), dec["shot_fraction"]) for s in self.shots]
        lengths = np.array([stop - start for start, stop in self.windows], dtype=float)
        self.weights = lengths / lengths.sum()
        self.groups_per_step = max(1, dec["batch_size"] // v.n)
        self.steps_per_epoch = max(1, int(np.ceil(lengths.sum() / (self.groups_per_step * v.n))))
        self.preset = PSEUDO_LABELS[cfg["loss"]["pseudo_labels"]]

    def draw(self, rng: np.random.Generator) -> tuple[list[str], np.ndarray, list[list[int]]]:
        """(items, seeds int8 (B, H, W), groups) of one SGD step."""
        items, seeds, groups = [], [], []
        for si in rng.choice(len(self.shots), size=self.groups_per_step, p=self.weights):
            shot, (start, stop) = self.shots[si], self.windows[si]
            positions = sample_frames(len(shot.items), self.v.n, self.v.sampling, rng, window=(start, stop))
            groups.append(list(range(len(items), len(items) + len(positions))))
            for p in positions:
                items.append(shot.items[p])
                cam = pseudo_label_cam(shot, int(p), self.v.pl_window, self.cams)
                seeds.append(sample_pseudo_labels(cam, rng, self.preset))
        return items, np.stack(seeds), groups


def train_decoder(v: Variant, shots: Sequence[Shot], cams: Mapping[str, np.ndarray], store: FrameStore,
                  classifier_path: str, cfg: Mapping[str, Any], seed: int, output: str, log: logging.Logger,
                  device: torch.device, encoder: EncoderMaps | None = None) -> None:
    """Train the decoder of variant ``v`` (config section ``colocam``) on the frozen classifier in
    ``classifier_path``; write ``output`` (the decoder's weights; resumable per epoch). ``encoder``: the classifier's
    cached stage maps of the central frames (else g runs at every step)."""
    if v.drop_shots:
        shots = drop_shots(shots, v.drop_shots, np.random.default_rng([seed, v.drop_shots]))
    classifier, _ = load_classifier(classifier_path, cfg["classifier"], device)
    torch.manual_seed(seed)
    net = LocalizationNet(classifier, cfg["decoder"]["widths"]).to(device)
    info = backbone_info(v.backbone)
    sampler = BatchSampler(shots, cams, v, cfg)
    log.info("variant %s: %d shots, %d steps per epoch of %d groups x %d frames, terms %s", v.name, len(shots),
             sampler.steps_per_epoch, sampler.groups_per_step, v.n, list(v.terms))
    sgd = cfg["decoder"]["sgd"]
    optimizer = torch.optim.SGD(net.decoder_parameters(), lr=sgd["lr"], momentum=sgd["momentum"], nesterov=True,
                                weight_decay=sgd["weight_decay"])
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=sgd["step"], gamma=sgd["gamma"])
    size = cfg["loss"]["size"]
    barrier = BarrierSchedule(size["t0"], size["factor"], size["t_max"])

    def epoch(e: int, rng: np.random.Generator) -> dict[str, float]:
        sums: dict[str, list[float]] = {}
        for _ in range(sampler.steps_per_epoch):
            items, seeds, groups = sampler.draw(rng)
            frames = store.frames(items)
            probs = net(network_batch(frames, info, device)) if encoder is None else \
                net.decoder(encoder.of(items, device), store.size)
            loss, parts = decoder_loss(probs, rgb_255(frames, device), torch.from_numpy(seeds).to(device), groups,
                                       v, cfg["loss"], barrier.t(e))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            for k, value in {"loss": float(loss.detach()), **parts}.items():
                sums.setdefault(k, []).append(value)
        return {k: float(np.mean(values)) for k, values in sums.items()}

    history = run_epochs(output, cfg["decoder"]["epochs"], seed, net, optimizer, scheduler, epoch, log,
                         f"decoder {v.name}")
    finish(output, {"decoder": net.decoder.state_dict(), "variant": asdict(v), "seed": seed, "history": history,
                    "shots": len(shots)})


def load_decoder(path: str, classifier_path: str, cfg: Mapping[str, Any],
                 device: torch.device) -> tuple[LocalizationNet, dict[str, Any]]:
    """The trained localization network (frozen classifier + decoder) and the decoder's saved state."""
    classifier, _ = load_classifier(classifier_path, cfg["classifier"], device)
    net = LocalizationNet(classifier, cfg["decoder"]["widths"])
    state = load(path)
    net.decoder.load_state_dict(state["decoder"])
    return net.to(device).eval(), state
