"""SSNM network assembly, loss (13), groups and evaluation (weakseg.methods.ssnm)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from weakseg.data.index import Dataset
from weakseg.methods.ssnm.groups import class_items, evaluation_chunks, sample_groups
from weakseg.methods.ssnm.network import build_ssnm
from weakseg.methods.ssnm.run import evaluate
from weakseg.methods.ssnm.train import segmentation_loss

NETWORK = {"backbone": "efficientnet_lite0", "weights": "random", "stages": [1, 2, 3, 4], "channels": 8,
           "spatial_stage": 1, "sem_reduced": 8, "sem_group_reduced": 4, "sign_rule": "border"}


def test_segmentation_loss_weights_as_printed_and_balanced():
    logits = torch.zeros(1, 1, 2, 2)                        # sigmoid 0.5 everywhere: each pixel's NLL is ln 2
    target = torch.tensor([[[[1.0, 0.0], [0.0, -1.0]]]])    # 1 positive, 2 negatives, 1 void -> delta = 1/3
    ln2 = math.log(2)
    paper = segmentation_loss(logits, target, "paper")      # (1/3 * ln2 + 2 * 2/3 * ln2) / 3 valid pixels
    balanced = segmentation_loss(logits, target, "balanced")  # (2/3 * ln2 + 2 * 1/3 * ln2) / 3
    assert float(paper) == pytest.approx((1 / 3 + 4 / 3) * ln2 / 3)
    assert float(balanced) == pytest.approx((2 / 3 + 2 / 3) * ln2 / 3)
    with pytest.raises(ValueError, match="weighting must be one of"):
        segmentation_loss(logits, target, "focal")


def test_test_chunks_cover_every_image_once_in_groups_of_n():
    items = [f"i{k}" for k in range(12)]
    chunks = evaluation_chunks(items, 5)
    assert [counted for _, counted in chunks] == [5, 5, 2]
    assert all(len(c) == 5 for c, _ in chunks)
    assert [i for c, n in chunks for i in c[:n]] == items
    assert chunks[-1][0] == ["i10", "i11", "i0", "i1", "i2"]
    assert evaluation_chunks(["a", "b"], 5) == [(["a", "b", "a", "b", "a"], 2)]
    assert evaluation_chunks([], 5) == []


def test_training_groups_hold_one_category():
    by_class = {"cat": ["c1", "c2", "c3", "c4", "c5", "c6"], "dog": ["d1", "d2"]}
    rng = np.random.default_rng(0)
    groups = sample_groups(by_class, ["cat", "dog"], 20, 5, rng)
    for cls, items in groups:
        assert len(items) == 5 and set(items) <= set(by_class[cls])
        if cls == "cat":
            assert len(set(items)) == 5                       # enough images: no repeats
    assert {c for c, _ in groups} == {"cat", "dog"}


@pytest.mark.parametrize("variant", [{}, {"spatial": False}, {"semantic": False}, {"spatial": False, "semantic": False}])
def test_network_and_its_ablations(variant):
    torch.manual_seed(0)
    model = build_ssnm(NETWORK, variant, num_categories=3).eval()
    x = torch.randn(2, 5, 3, 64, 64)
    with torch.no_grad():
        out = model(x)
    assert out.logits.shape == (2, 5, 64, 64) and out.masks.shape == (2, 5, 8, 8)
    if variant.get("spatial", True):
        assert out.masks.abs().amax() == pytest.approx(1.0) and (out.spatial_loss <= 0).all()
    else:
        assert (out.masks == 0).all() and (out.spatial_loss == 0).all()
    if variant.get("semantic", True):
        assert out.category_logits.shape == (2, 3)
    else:
        assert out.category_logits is None and (out.gamma == 1).all()


def test_evaluation_scores_every_masked_image_once(tiny_datasets):
    ds = Dataset(tiny_datasets["syn_msrc"])
    model = build_ssnm(NETWORK, {}, num_categories=2).eval()
    cfg = {"group_size": 5, "input_size": 64, "threshold": 0.5}
    ev = evaluate(model, ds, cfg, torch.device("cpu"))
    masked = sorted(i for items in class_items(ds.index).values() for i in items)
    assert sorted(ev["item"]) == masked
    assert ev["jaccard"].between(0, 1).all() and ev["precision"].between(0, 1).all()
