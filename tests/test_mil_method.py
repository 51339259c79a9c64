"""The MIL network, its training set and inference with priors (weakseg.methods.mil)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from weakseg.data.index import Dataset
from weakseg.methods.mil.network import build_milnet
from weakseg.methods.mil.run import evaluate, load_model, probabilities, train_model
from weakseg.methods.mil.train import image_labels, jitter

NETWORK = {"backbone": "efficientnet_lite0", "weights": "imagenet", "stage": 3, "output_stride": 8,
           "channels": [16, 16, 16], "dropout": 0.5, "padding": 1}
CFG = {"network": NETWORK, "input_size": 64, "lse_r": 5.0, "epochs": 2, "threshold_grid": 5, "eval_splits": ["val"],
       "sgd": {"lr": 0.001, "decay": 0.8, "decay_every": 1000, "momentum": 0.9, "weight_decay": 5e-5, "batch_size": 4},
       "jitter": {"rotation": 10.0, "scale": 0.1, "brightness": 0.2, "contrast": 0.2}}


def test_network_freezes_the_extractor_and_outputs_classes_plus_background():
    model = build_milnet(["cat", "dog"], NETWORK).train()
    assert not any(p.requires_grad for p in model.body.parameters())
    assert all(p.requires_grad for p in model.head.parameters())
    assert not any(m.training for m in model.body.modules())
    out = model(torch.zeros(2, 3, 64, 64))
    assert out.shape == (2, 3, 8, 8)
    convs = [m for m in model.head if isinstance(m, torch.nn.Conv2d)]
    drops = [m for m in model.head if isinstance(m, torch.nn.Dropout2d)]
    relus = [m for m in model.head if isinstance(m, torch.nn.ReLU)]
    assert len(convs) == 4 and len(drops) == 4 and len(relus) == 3      # eq. 1: no ReLU after the last layer


def test_classification_labels_map_background_and_other_classes_to_0(tiny_datasets):
    ds = Dataset(tiny_datasets["syn_imagenet"])
    items, ids = image_labels(ds, "train", ["aeroplane", "cat"])
    labels = {i: list(ds.row(i)["labels"])[0] for i in items}
    for item, k in zip(items, ids):
        expected = {"aeroplane": 1, "cat": 2}.get(labels[item], 0)
        assert k == expected
    assert (ids == 0).any()


def test_jitter_keeps_shape_and_is_seeded():
    images = torch.rand(3, 3, 32, 32)
    a = jitter(images, CFG["jitter"], np.random.default_rng(0))
    b = jitter(images, CFG["jitter"], np.random.default_rng(0))
    assert a.shape == images.shape and torch.equal(a, b) and not torch.equal(a, images)


def test_train_then_evaluate_with_every_prior(tiny_datasets, tmp_path):
    voc = Dataset(tiny_datasets["syn_voc"])
    out = tmp_path / "lse.pt"
    train_model("lse", CFG, 0, Dataset(tiny_datasets["syn_imagenet"]), voc.classes, str(out),
                logging.getLogger("t"), torch.device("cpu"))
    model, state = load_model(str(out), CFG, torch.device("cpu"))
    assert state["aggregation"] == "lse" and len(state["history"]) == 2
    item = voc.items("val")["item"].iloc[0]
    pixel, image_level = probabilities(model, voc.image(item), 5.0, torch.device("cpu"))
    assert pixel.shape == (21, *voc.image(item).shape[:2]) and np.allclose(pixel.sum(0), 1, atol=1e-5)
    assert image_level.shape == (21,) and image_level.sum() == pytest.approx(1, abs=1e-5)
    val = voc.items("val")["item"]
    segments = {i: np.zeros((2, 96, 96), bool) for i in val}
    for m in segments.values():
        m[0, 10:50, 10:50] = True
        m[1, :, :] = True

    class Prior:   # the unit-file interface of weakseg.preprocess.store.UnitData
        fields = ["masks", "scores"]

        @staticmethod
        def get(field, item):
            return segments[item] if field == "masks" else np.array([0.9, 0.1], np.float32)

    ev, thresholds = evaluate(model, voc, {**CFG, "variant": {"prior": "ilp_seg"}}, Prior(), torch.device("cpu"))
    assert len(ev) == len(val) and len(thresholds) == 21 and thresholds[0] == 0
    base, none = evaluate(model, voc, {**CFG, "variant": {"prior": "none"}}, None, torch.device("cpu"))
    assert none is None and len(base) == len(val)
