"""Device choice and batched feature extraction (per-box descriptors, per-image maps)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import data, transform

from weakseg.features.backbones import (
    BackboneInfo,
    load_backbone,
    preprocess,
)
from weakseg.features.device import pick_device
from weakseg.features.extract import box_features, image_feature_maps
from weakseg.features.registry import BACKBONES

CPU = torch.device("cpu")
LITE0 = BACKBONES["efficientnet_lite0"]


class _Identity(torch.nn.Module):
    """A 'backbone' whose only feature map is its (normalised) input: stride 1, 3 channels."""

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [x]


IDENTITY = BackboneInfo("identity", 64, ("input",), (3,), (1,), "test")


@pytest.fixture(scope="module")
def lite0() -> torch.nn.Module:
    return load_backbone("efficientnet_lite0")


@pytest.fixture(scope="module")
def cat_scene() -> np.ndarray:
    """96x96 noisy grey background with the cat of ``chelsea`` pasted at [24, 72) x [24, 72)."""
    rng = np.random.default_rng(0)
    image = np.clip(128 + rng.normal(0, 6, (96, 96, 3)), 0, 255).astype(np.uint8)
    cat = transform.resize(data.chelsea()[:, 60:390], (48, 48), anti_aliasing=True)
    image[24:72, 24:72] = (cat * 255).astype(np.uint8)
    return image


def test_pick_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert pick_device() == CPU and pick_device("cpu") == CPU
    with pytest.raises(RuntimeError, match="CUDA"):
        pick_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device("auto").type == "cuda"
    with pytest.raises(ValueError, match="auto"):
        pick_device("gpu")


def test_cuda_is_refused_on_this_machine_without_gpu():
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is visible")
    with pytest.raises(RuntimeError):
        pick_device("cuda")


def test_box_feature_is_the_mean_colour_of_the_box():
    """Identity backbone: a box's feature is its region's normalised colour, L2-normalised, so
    box scaling (image -> input), spatial_scale and the continuous-corner convention are exact."""
    left, right = np.array([200, 30, 60]), np.array([20, 90, 240])
    image = np.zeros((40, 80, 3), np.uint8)
    image[:, :40], image[:, 40:] = left, right
    boxes = np.array([[0, 0, 36, 40], [44, 10, 80, 30], [20, 0, 60, 40]], float)
    feats = box_features(_Identity(), IDENTITY, [image], [boxes], input_size=64, batch_size=1, device=CPU)[0]

    def expected(rgb: np.ndarray) -> np.ndarray:
        v = (rgb / 255 - np.array(IDENTITY.mean)) / np.array(IDENTITY.std)
        return v / np.linalg.norm(v)

    np.testing.assert_allclose(feats[0], expected(left), atol=1e-5)
    np.testing.assert_allclose(feats[1], expected(right), atol=1e-5)
    np.testing.assert_allclose(feats[2], expected((left + right) / 2), atol=1e-2)  # resize blurs the edge
    # Unresized 64x64 image, box centred on the colour edge at x = 32: half of each colour exactly
    # (with aligned=False the samples would sit half a pixel to the right).
    square = np.concatenate([image[:32, 8:40], image[:32, 40:72]], axis=1).repeat(2, axis=0)
    centred = box_features(_Identity(), IDENTITY, [square], [np.array([[28.0, 0, 36, 64]])],
                           input_size=64, batch_size=1, device=CPU)[0]
    np.testing.assert_allclose(centred[0], expected((left + right) / 2), atol=1e-5)


def test_box_features_rows(lite0, cat_scene):
    on_cat = [24, 24, 72, 72]
    boxes = np.array([on_cat, on_cat, [28, 28, 68, 68], [0, 0, 20, 96], [0, 0, 96, 20]], float)
    feats = box_features(lite0, LITE0, [cat_scene], [boxes], input_size=224, batch_size=4, device=CPU)
    assert len(feats) == 1 and feats[0].shape == (5, LITE0.channels[-1]) and feats[0].dtype == np.float32
    f = feats[0]
    np.testing.assert_array_equal(f[0], f[1])
    np.testing.assert_allclose(np.linalg.norm(f, axis=1), 1.0, atol=1e-5)
    assert f[0] @ f[2] > 0.95  # the same object, a slightly tighter box
    assert f[0] @ f[3] < 0.6 and f[0] @ f[4] < 0.6  # background strips (left, top)


def test_box_features_batching_and_image_size_do_not_matter(lite0, cat_scene):
    """Batch size 1 or 3 gives the same rows; a 2x upscaled copy with doubled boxes gives
    (nearly) the same rows, since both are resized to the same input."""
    boxes = np.array([[24, 24, 72, 72], [0, 0, 20, 96], [10, 50, 90, 90]], float)
    big = np.kron(cat_scene, np.ones((2, 2, 1), np.uint8))
    images, per_image = [cat_scene, big, cat_scene], [boxes, 2 * boxes, boxes[:1]]
    one = box_features(lite0, LITE0, images, per_image, input_size=128, batch_size=1, device=CPU)
    three = box_features(lite0, LITE0, images, per_image, input_size=128, batch_size=3, device=CPU)
    assert [f.shape[0] for f in three] == [3, 3, 1]
    for a, b in zip(one, three):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert np.all(np.sum(three[0] * three[1], axis=1) > 0.98)
    np.testing.assert_allclose(three[2], three[0][:1], atol=1e-5)


def test_box_features_without_boxes(lite0, cat_scene):
    feats = box_features(lite0, LITE0, [cat_scene], [np.zeros((0, 4))], input_size=64, batch_size=2, device=CPU)
    assert feats[0].shape == (0, LITE0.channels[-1])


def test_box_features_reject_bad_input(lite0, cat_scene):
    kw = dict(input_size=64, batch_size=2, device=CPU)
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        box_features(lite0, LITE0, [cat_scene], [np.zeros((2, 3))], **kw)
    with pytest.raises(ValueError, match="x_max >= x_min"):
        box_features(lite0, LITE0, [cat_scene], [np.array([[10.0, 0, 5, 5]])], **kw)
    with pytest.raises(ValueError, match="2 images but 1"):
        box_features(lite0, LITE0, [cat_scene, cat_scene], [np.zeros((0, 4))], **kw)
    with pytest.raises(ValueError, match="uint8"):
        box_features(lite0, LITE0, [cat_scene / 255], [np.zeros((0, 4))], **kw)


def test_image_feature_maps_are_the_deepest_map(lite0, cat_scene):
    small = cat_scene[:72]
    maps = image_feature_maps(lite0, LITE0, [cat_scene, small], input_size=96, batch_size=2, device=CPU)
    assert [m.shape for m in maps] == [(320, 3, 3), (320, 3, 3)] and maps[0].dtype == np.float32
    with torch.no_grad():
        direct = lite0(preprocess([small], LITE0, 96))[-1][0].numpy()
    np.testing.assert_allclose(maps[1], direct, rtol=1e-4, atol=1e-4)  # batch of 2 vs 1: float sums


def _claim_and_hold(lock_dir, n, ready, release, out):
    from weakseg.features.device import claim_gpu

    out.put(claim_gpu(n, lock_dir=lock_dir, timeout=0.5, poll=0.05))
    ready.set()
    release.wait(10)


def test_each_gpu_job_claims_its_own_device_until_it_ends(tmp_path):
    import multiprocessing as mp

    from weakseg.features.device import claim_gpu

    ctx = mp.get_context("fork")
    release, out = ctx.Event(), ctx.Queue()
    holders = []
    for _ in range(3):
        ready = ctx.Event()
        proc = ctx.Process(target=_claim_and_hold, args=(tmp_path, 3, ready, release, out))
        proc.start()
        assert ready.wait(10)
        holders.append(proc)
    assert sorted(out.get() for _ in range(3)) == [0, 1, 2]
    probe = ctx.Process(target=_claim_and_hold, args=(tmp_path, 3, ctx.Event(), release, out))
    probe.start()
    probe.join(10)
    assert probe.exitcode != 0  # all three held: RuntimeError after the timeout
    release.set()
    for proc in holders:
        proc.join(10)
    assert claim_gpu(3, lock_dir=tmp_path, timeout=0.5) == 0  # freed when their processes ended
