"""CoLo-CAM as one configurable method: variants, the total loss (eq. 5), the training batches, unavailable rows."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import yaml
from conftest import REPO

from weakseg.crf import multi_frame_colour_crf_loss
from weakseg.methods.colocam.decoder_training import BatchSampler, decoder_loss, pseudo_label_cam
from weakseg.methods.colocam.frames import Shot
from weakseg.methods.colocam.loss_scaling import constant_lambda_c, crf_at_resolution
from weakseg.methods.colocam.losses import partial_cross_entropy
from weakseg.methods.colocam.notes import unavailable
from weakseg.methods.colocam.variants import all_variants, canonical, seeds, variant


@pytest.fixture(scope="module")
def config() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text())


def test_every_declared_and_generated_variant_resolves(config):
    cfg = config["colocam"]
    names = all_variants(cfg)
    assert {"cam", "layercam", "fcam", "tcam", "colocam", "drop_shots_1", "colocam_n2", "colocam_lc1"} <= set(names)
    v = variant("tcam", cfg)
    assert v.trained and v.terms == ("pl", "crf", "asc") and v.pl_window == 2 and v.n == 1
    assert variant("layercam", cfg).cam == "layercam" and not variant("layercam", cfg).trained
    assert variant("sampling_gaussian", cfg).sampling == "gaussian" and variant("sampling_gaussian", cfg).n == 4
    assert variant("backbone_vgg16", cfg).backbone == "vgg16"


def test_generated_variants_equal_to_declared_ones_share_their_model(config):
    cfg = config["colocam"]
    assert canonical("colocam_n4", cfg) == "colocam"        # the default n
    assert canonical("colocam_lc9", cfg) == "colocam"       # the default lambda_c
    assert canonical("tcam_n2", cfg) == "tcam"
    assert canonical("colocam_n2", cfg) == "colocam_n2"
    assert seeds("drop_shots_1", cfg) == cfg["stability"]["repeats"] and seeds("colocam", cfg) == cfg["seeds"]


@pytest.mark.parametrize("override, message", [
    ({"terms": ["crf"]}, r"colocam.variants.bad'.terms is \['crf'\]"),
    ({"terms": ["pl", "coloc"], "n": 1}, "needs n >= 2"),
    ({"cam": "scorecam"}, r"cam is 'scorecam'; allowed"),
    ({"cam": "cam", "n": 2}, "takes only 'cam' and 'backbone'"),
    ({"sampling": "random"}, r"sampling is 'random'"),
    ({"colour": 1}, r"unknown keys \['colour'\]"),
])
def test_a_bad_variant_names_its_config_key(config, override, message):
    cfg = copy.deepcopy(config["colocam"])
    cfg["variants"]["bad"] = override
    with pytest.raises(ValueError, match=message):
        variant("bad", cfg)


def test_a_declared_name_clashing_with_a_generated_one_is_refused(config):
    cfg = copy.deepcopy(config["colocam"])
    cfg["variants"]["drop_shots_1"] = {}
    with pytest.raises(ValueError, match=r"declares \['drop_shots_1'\]"):
        all_variants(cfg)


def test_constant_lambda_c_keeps_the_papers_weight_per_pixel_pair(config):
    loss = dict(config["colocam"]["loss"], resolution=[224, 224])
    assert constant_lambda_c(loss) == pytest.approx(2e-9)
    loss["resolution"] = [112, 224]                          # half the pixels: 4x fewer pairs
    assert constant_lambda_c(loss) == pytest.approx(8e-9)
    loss["resolution"] = [56, 56]                            # a quarter of the side: 16x fewer pixels
    sigma_xy, sigma_rgb, weight = crf_at_resolution(loss)
    assert (sigma_xy, sigma_rgb, weight) == pytest.approx((25.0, 15.0, 2e-9 * 256))


def _batch(b: int = 4, h: int = 8, w: int = 10):
    gen = torch.Generator().manual_seed(0)
    probs = torch.softmax(torch.randn(b, 2, h, w, generator=gen), dim=1).requires_grad_(True)
    rgb = torch.randint(0, 256, (b, 3, h, w), generator=gen).float()
    seeds = torch.full((b, h, w), -1, dtype=torch.int8)
    seeds[:, 0, 0], seeds[:, h - 1, w - 1] = 0, 1
    return probs, rgb, seeds


def test_the_total_loss_adds_exactly_the_variants_terms(config):
    cfg = copy.deepcopy(config["colocam"])
    cfg["loss"]["resolution"] = [8, 10]                      # the input size: no resizing
    probs, rgb, seeds = _batch()
    pl_only = variant("pl_only", cfg)
    loss, parts = decoder_loss(probs, rgb, seeds, [[0], [1], [2], [3]], pl_only, cfg["loss"], 1.0)
    expected = float(partial_cross_entropy(probs, seeds).detach())
    assert set(parts) == {"pl"} and float(loss.detach()) == pytest.approx(expected)
    colocam = variant("colocam", cfg)
    loss, parts = decoder_loss(probs, rgb, seeds, [[0, 1], [2, 3]], colocam, cfg["loss"], 1.0)
    assert set(parts) == {"pl", "crf", "asc", "coloc", "coloc_raw"}
    assert parts["coloc"] == pytest.approx(-colocam.lambda_c)          # adaptive: value -lambda_c (R_c < 0)
    raw = torch.stack([multi_frame_colour_crf_loss(probs[[0, 1]], rgb[[0, 1]]),
                       multi_frame_colour_crf_loss(probs[[2, 3]], rgb[[2, 3]])]).mean()
    assert parts["coloc_raw"] == pytest.approx(float(raw.detach()), rel=1e-5)
    assert float(loss.detach()) == pytest.approx(parts["pl"] + parts["crf"] + parts["asc"] + parts["coloc"], rel=1e-5)
    loss.backward()
    assert probs.grad is not None and torch.isfinite(probs.grad).all()
    const = variant("colocam_const_n2", cfg)
    _, parts = decoder_loss(probs, rgb, seeds, [[0, 1], [2, 3]], const, cfg["loss"], 1.0)
    assert parts["coloc"] == pytest.approx(constant_lambda_c(cfg["loss"]) * parts["coloc_raw"], rel=1e-6)


def test_the_grid_kernel_gives_the_exact_crf_terms_within_one_percent(config):
    cfg = copy.deepcopy(config["colocam"])
    cfg["loss"]["resolution"] = [8, 10]
    probs, rgb, seeds = _batch()
    colocam = variant("colocam", cfg)
    _, exact = decoder_loss(probs, rgb, seeds, [[0, 1], [2, 3]], colocam, {**cfg["loss"], "kernel": "exact"}, 1.0)
    _, grid = decoder_loss(probs, rgb, seeds, [[0, 1], [2, 3]], colocam, {**cfg["loss"], "kernel": "grid"}, 1.0)
    assert grid["crf"] == pytest.approx(exact["crf"], rel=0.01) and grid["crf"] != exact["crf"]
    assert grid["coloc_raw"] == pytest.approx(exact["coloc_raw"], rel=0.01)


def _shots() -> list[Shot]:
    return [Shot("v1", "s1", "car", tuple(f"v1/s1/{i}" for i in range(10))),
            Shot("v2", "s1", "cat", tuple(f"v2/s1/{i}" for i in range(20)))]


def _cams(shots: list[Shot]) -> dict[str, np.ndarray]:
    cams = {}
    for s in shots:
        for k, item in enumerate(s.items):
            cam = np.zeros((6, 8), dtype=np.float32)
            cam[1:3, k % 8] = 1.0                     # a blob that moves one column per frame
            cams[item] = cam
    return cams


def test_the_sampler_draws_groups_of_n_central_frames_with_seeds(config):
    cfg = copy.deepcopy(config["colocam"])
    shots = _shots()
    sampler = BatchSampler(shots, _cams(shots), variant("colocam", cfg), cfg)
    assert sampler.groups_per_step == 8 and sampler.windows == [(2, 8), (4, 16)]
    assert sampler.steps_per_epoch == 1                       # 6 + 12 central frames < one batch of 32
    items, seeds, groups = sampler.draw(np.random.default_rng(0))
    assert len(groups) == 8 and all(len(g) == 4 for g in groups) and len(items) == 32 and seeds.shape == (32, 6, 8)
    for g in groups:
        frames = [int(items[i].rsplit("/", 1)[1]) for i in g]
        assert frames == list(range(frames[0], frames[0] + 4))           # adjacent
        shot = items[g[0]].split("/")[0]
        lo, hi = (2, 8) if shot == "v1" else (4, 16)
        assert lo <= frames[0] and frames[-1] < hi                      # central 60 % of the shot
    assert ((seeds == 1).sum(axis=(1, 2)) == 1).all() and ((seeds == 0).sum(axis=(1, 2)) == 1).all()  # Algorithm 1


def test_tcam_draws_its_seeds_from_the_max_of_the_window(config):
    shots = _shots()
    cams = _cams(shots)
    pooled = pseudo_label_cam(shots[0], 5, 3, cams)
    assert np.array_equal(pooled, np.maximum.reduce([cams["v1/s1/3"], cams["v1/s1/4"], cams["v1/s1/5"]]))
    assert pooled[1:3, 3:6].all() and pooled.sum() == 6
    assert np.array_equal(pseudo_label_cam(shots[0], 0, 3, cams), cams["v1/s1/0"])     # clipped at the shot start
    assert pseudo_label_cam(shots[0], 5, 1, cams) is cams["v1/s1/5"]


def test_rows_the_configuration_cannot_measure_say_why(config, monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))          # no torchvision weights there
    monkeypatch.delenv("WEAKSEG_DOWNLOAD_WEIGHTS", raising=False)
    missing = unavailable(config)
    assert "are not at" in missing["backbone_vgg16"] and "are not at" in missing["layercam_resnet50"]
    assert missing["drop_shots_100"] == f"not run: config 'colocam.stability.m' is {config['colocam']['stability']['m']}"
    assert "colocam" not in missing and "layercam" not in missing and "drop_shots_1" not in missing


def test_cached_encoder_maps_are_the_encoders_of_the_central_frames(tiny_datasets, tmp_path):
    from weakseg.data.index import Dataset
    from weakseg.features.backbones import backbone_info
    from weakseg.methods.colocam.classifier import FrameClassifier
    from weakseg.methods.colocam.classifier_training import EncoderMaps, compute_encoder_maps
    from weakseg.methods.colocam.frames import central_range, training_shots
    from weakseg.methods.colocam.inputs import FrameStore, network_batch

    cpu = torch.device("cpu")
    ds = Dataset(tiny_datasets["syn_yto"])
    shots = training_shots(ds.index, ["train"], ds.classes)
    torch.manual_seed(0)
    classifier = FrameClassifier("efficientnet_lite0", "random", len(ds.classes), output_stride=8).freeze()
    store = FrameStore(ds, (72, 96))
    compute_encoder_maps(classifier, "efficientnet_lite0", shots, store, 0.6, str(tmp_path / "enc.pt"), cpu)
    cache = EncoderMaps(str(tmp_path / "enc.pt"))
    assert set(cache.position) == {s.items[i] for s in shots for i in range(*central_range(len(s.items), 0.6))}
    items = sorted(cache.position)[:3]
    with torch.no_grad():
        want = classifier.encoder_maps(network_batch(store.frames(items), backbone_info("efficientnet_lite0"), cpu))
    for got, ref in zip(cache.of(items, cpu), want):
        assert got.dtype == torch.float32 and got.shape == ref.shape
        assert torch.allclose(got, ref, rtol=2e-3, atol=2e-3 * float(ref.abs().max()))   # float16 storage
    with pytest.raises(KeyError, match="encoder cache has no maps"):
        cache.of([shots[0].items[0]], cpu)                  # a shot's first frame is not central
