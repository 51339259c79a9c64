"""M-CNN network, variants, training loop and evaluation pieces (weakseg.methods.mcnn, weakseg.training)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import torch

from weakseg.data.index import Dataset
from weakseg.evaluation import evaluate_semantic
from weakseg.methods.mcnn.data import random_crop
from weakseg.methods.mcnn.fcn import FOV, build_fcn
from weakseg.methods.mcnn.train import LabelStep, class_weight_tensor, latent_labels, restricted
from weakseg.methods.mcnn.variants import lineage, variant
from weakseg.training import checkpoint_path, finish, run_epochs

NETWORK = {"backbone": "efficientnet_lite0", "stage": 3, "head_channels": 8, "dropout": 0.5, "crop": 64,
           "fov": {"large": {"kernel": 3, "dilation": 12}, "small": {"kernel": 4, "dilation": 4}}}
LOG = logging.getLogger("test")


@pytest.mark.parametrize("fov", ["large", "small"])
def test_fcn_has_output_stride_8_and_keeps_the_size_with_even_kernels(fov):
    model = build_fcn(["cat", "dog"], NETWORK, fov, weights="random").eval()
    with torch.no_grad():
        assert model(torch.zeros(2, 3, 64, 80)).shape == (2, 3, 8, 10)
        assert model.upsampled(torch.zeros(1, 3, 64, 80)).shape == (1, 3, 64, 80)


def test_fov_dilation_scales_with_the_crop():
    assert FOV(3, 12).scaled_dilation(321) == 12
    assert FOV(3, 12).scaled_dilation(64) == 2      # 12 * 64 / 321 = 2.39
    assert FOV(4, 4).scaled_dilation(64) == 1       # never below 1


def test_adopt_head_matches_classifier_rows_by_class_name():
    torch.manual_seed(0)
    ten = build_fcn(["cat", "dog"], NETWORK, "large", weights="random")
    twenty = build_fcn(["bird", "dog", "cat"], NETWORK, "large", weights="random")
    before = twenty.head[-1].weight.detach().clone()
    twenty.adopt_head(ten)
    w_old, w_new = ten.head[-1].weight, twenty.head[-1].weight
    assert torch.equal(w_new[0], w_old[0])          # background
    assert torch.equal(w_new[3], w_old[1])          # cat
    assert torch.equal(w_new[2], w_old[2])          # dog
    assert torch.equal(w_new[1], before[1])         # bird: no source row, keeps its initialisation
    assert torch.equal(twenty.head[1].weight, ten.head[1].weight)


def test_backbone_batchnorm_stays_frozen_in_train_mode():
    model = build_fcn(["cat"], NETWORK, "large", weights="random").train()
    bns = [m for m in model.body.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and not any(m.training for m in bns)
    assert model.head.training


VARIANTS = {
    "base": {"labels": "motion", "fov": "large"},
    "tuned": {"labels": "motion", "fov": "large", "init": "base", "shots": "selected"},
    "images": {"labels": "motion", "fov": "large", "init": "tuned", "shots": "selected", "images": "voc2012"},
}


def test_variants_chain_and_their_errors():
    assert lineage("images", VARIANTS) == ["base", "tuned", "images"]
    assert variant("tuned", VARIANTS).stage == "finetune" and variant("images", VARIANTS).stage == "images"
    assert variant("base", VARIANTS).alpha_key == "alpha" and variant("tuned", VARIANTS).alpha_key == "alpha_finetune"
    with pytest.raises(ValueError, match="needs an 'init' model"):
        variant("x", {"x": {"labels": "motion", "fov": "large", "shots": "selected"}})
    with pytest.raises(ValueError, match="fov 'small' differs from its init 'base'"):
        variant("x", {**VARIANTS, "x": {"labels": "motion", "fov": "small", "init": "base"}})
    with pytest.raises(ValueError, match="'mcnn.variants.x.labels' is 'soft'"):
        variant("x", {"x": {"labels": "soft", "fov": "large"}})
    with pytest.raises(ValueError, match="init cycle"):
        lineage("a", {"a": {"labels": "motion", "fov": "large", "init": "b"},
                      "b": {"labels": "motion", "fov": "large", "init": "a"}})


def _toy_run(output, epochs):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.5), torch.nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    x = torch.linspace(-1, 1, 32).view(8, 4)

    def epoch(e, rng):
        order = torch.from_numpy(rng.permutation(8))
        loss = ((model(x[order]) - x[order].sum(1, keepdim=True)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": float(loss.detach())}

    history = run_epochs(output, epochs, 3, model, opt, sched, epoch, LOG, "toy")
    return model, history


def test_a_resumed_run_ends_exactly_where_the_uninterrupted_one_does(tmp_path):
    straight, h_straight = _toy_run(tmp_path / "a.pt", 4)
    _toy_run(tmp_path / "b.pt", 2)                       # "killed" after epoch 2: its checkpoint stays
    assert checkpoint_path(tmp_path / "b.pt").is_file()
    resumed, h_resumed = _toy_run(tmp_path / "b.pt", 4)  # the rerun continues from it
    assert [h["loss"] for h in h_resumed] == [h["loss"] for h in h_straight]
    for a, b in zip(straight.parameters(), resumed.parameters()):
        assert torch.equal(a, b)
    finish(tmp_path / "b.pt", {"model": resumed.state_dict()})
    assert (tmp_path / "b.pt").is_file() and not checkpoint_path(tmp_path / "b.pt").exists()


def test_random_crop_cuts_every_array_alike():
    rng = np.random.default_rng(0)
    frames = np.arange(2 * 10 * 12 * 3, dtype=np.uint8).reshape(2, 10, 12, 3)
    masks = frames[..., 0] % 2 == 0
    for _ in range(5):
        f, m = random_crop([frames, masks], 8, rng)
        assert f.shape == (2, 8, 8, 3) and m.shape == (2, 8, 8)
        assert np.array_equal(m, f[..., 0] % 2 == 0)
    small = random_crop([frames[:, :4, :6]], 8, rng)[0]   # scaled up to fit the crop
    assert small.shape == (2, 8, 8, 3)


def test_latent_labels_of_the_hard_and_em_adapt_steps():
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(4), size=(2, 6, 6)).transpose(0, 3, 1, 2)   # (B, 1 + 3, H, W)
    motion = np.zeros((2, 6, 6), bool)
    motion[:, 1:4, 2:5] = True
    step = LabelStep("motion_hard", None, {"fg_fraction": 0.2, "bg_fraction": 0.4})
    hard = latent_labels(step, None, motion, probs, (2,), None)
    assert np.array_equal(hard, np.where(motion, 2, 0))
    with pytest.raises(ValueError, match="single-label"):
        latent_labels(step, None, motion, probs, (1, 2), None)
    em = latent_labels(LabelStep("em_adapt", None, step.em_adapt), None, motion, probs, (3,), None)
    assert set(np.unique(em)) <= {0, 3}
    for b in range(2):                                   # EM-Adapt's quotas: >= 20 % fg, >= 40 % bg
        assert (em[b] == 3).mean() >= 0.2 - 1e-9 and (em[b] == 0).mean() >= 0.4 - 1e-9
    sub = restricted(probs, (3,))
    assert sub.shape == (2, 2, 6, 6) and np.allclose(sub.sum(axis=1), 1)


def test_class_weights_over_training_samples():
    class S:
        def __init__(self, ids):
            self.label_ids = ids
    samples = [S((1,)), S((1,)), S((1,)), S((1,)), S((2,))]   # cat x4, dog x1, bird never
    w = class_weight_tensor(("cat", "dog", "bird"), samples, torch.device("cpu"))
    assert w.tolist() == pytest.approx([1.0, 0.25, 1.0, 1.0])


def test_semantic_evaluation_subset_protocol(tiny_datasets):
    ds = Dataset(tiny_datasets["syn_voc"])
    items = [i for i in ds.items("val")["item"] if ds.mask(i) is not None]
    perfect = {i: np.where(ds.mask(i) == 255, 0, ds.mask(i)).astype(np.int64) for i in items}
    full = evaluate_semantic(ds, perfect)
    conf = np.stack(full["confusion"]).sum(0).reshape(21, 21)
    assert len(full) == len(items) and np.count_nonzero(conf - np.diag(np.diag(conf))) == 0
    present = sorted({ds.classes[v - 1] for i in items for v in np.unique(ds.mask(i)) if 0 < v < 255})
    keep = present[:1]
    sub = evaluate_semantic(ds, perfect, relevant=keep)
    shows = [i for i in items if (ds.mask(i) == 1 + ds.classes.index(keep[0])).any()]
    assert sorted(sub["item"]) == sorted(shows)
    conf = np.stack(sub["confusion"]).sum(0).reshape(21, 21)
    others = [1 + ds.classes.index(c) for c in present[1:]]
    # the other classes' pixels count as background: predicted as their class they are errors
    if others and any((ds.mask(i) == o).any() for i in shows for o in others):
        assert conf[0, others].sum() > 0
    with pytest.raises(ValueError, match="not classes"):
        evaluate_semantic(ds, perfect, relevant=["unicorn"])


def test_semantic_evaluation_skips_images_without_masks(tiny_datasets):
    ds = Dataset(tiny_datasets["syn_yto"])
    frames = ds.index[ds.index["mask"].isna()]["item"].head(3)
    out = evaluate_semantic(ds, {i: np.zeros((ds.row(i)["height"], ds.row(i)["width"]), np.int64) for i in frames})
    assert isinstance(out, pd.DataFrame) and out.empty
