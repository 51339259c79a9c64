"""Snakemake entry point: time of CoLo-CAM's multi-frame loss (eq. 4), forward + backward, vs the number of frames
n (Fig. 2 d), on this machine."""

import torch

from weakseg.features.device import pick_device
from weakseg.io import atomic_path
from weakseg.methods.colocam.figure2_data import coloc_loss_times
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
with logged(sm.log[0], "colocam_loss_time") as log:
    torch.set_num_threads(sm.threads)
    fig, loss = sm.params.figure, sm.params.loss
    times = coloc_loss_times(fig["time_n"], loss["resolution"], loss["coloc_sigma_rgb"], fig["time_repeats"],
                             pick_device(sm.params.device), loss["kernel"])
    log.info("\n%s", times.to_string(index=False))
    with atomic_path(sm.output[0]) as tmp:
        times.to_csv(tmp, index=False)
