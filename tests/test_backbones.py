"""Backbone registry: real EfficientNet-Lite0 ImageNet weights, offline-only torchvision
weights, random initialisation only by name, feature-map shapes and preprocessing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import timm
import torch
import torchvision.models as tvm
from skimage import data

from weakseg.features.backbones import (
    backbone_info,
    lite0_state_dict,
    load_backbone,
    load_classifier,
    preprocess,
)
from weakseg.features.registry import BACKBONES

EGYPTIAN_CAT, ESPRESSO = 285, 967  # ImageNet-1k class indices


@pytest.fixture(scope="module")
def lite0() -> torch.nn.Module:
    return load_classifier("efficientnet_lite0")


@pytest.fixture
def empty_hub(tmp_path, monkeypatch) -> str:
    """torch.hub's directory pointed at an empty folder (no checkpoints on disk)."""
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    return str(tmp_path)


def test_lite0_checkpoint_has_296_tensors_like_timm_model():
    state = lite0_state_dict()
    assert len(state) == 296
    assert len(timm.create_model("efficientnet_lite0", pretrained=False).state_dict()) == 296
    assert next(iter(state)) == "_conv_stem.weight"  # efficientnet_pytorch naming, loaded by position


def test_lite0_weights_are_the_checkpoint(lite0):
    state = lite0_state_dict()
    assert torch.equal(lite0.conv_stem.weight, state["_conv_stem.weight"])
    assert torch.equal(lite0.classifier.weight, state["_fc.weight"])
    assert torch.equal(lite0.bn2.running_var, state["_bn1.running_var"])


def test_lite0_known_answers_chelsea_and_coffee(lite0):
    info = BACKBONES["efficientnet_lite0"]
    x = preprocess([data.chelsea(), data.coffee()], info, info.input_size)
    with torch.no_grad():
        top1 = lite0(x).argmax(dim=1).tolist()
    assert top1 == [EGYPTIAN_CAT, ESPRESSO]


def test_random_weights_only_by_name(lite0):
    random = load_classifier("efficientnet_lite0", weights="random")
    assert not torch.equal(random.conv_stem.weight, lite0.conv_stem.weight)
    for bad in ("pretrained", "", "none"):
        with pytest.raises(ValueError, match="random"):
            load_classifier("efficientnet_lite0", weights=bad)


def test_torchvision_without_checkpoint_raises_naming_the_path(empty_hub):
    expected = f"{empty_hub}/checkpoints/alexnet-owt-7be5be79.pth"
    with pytest.raises(FileNotFoundError) as err:
        load_classifier("alexnet")
    assert expected in str(err.value)
    assert "downloads nothing by default" in str(err.value) and "WEAKSEG_DOWNLOAD_WEIGHTS=1" in str(err.value)
    assert isinstance(load_classifier("alexnet", weights="random"), tvm.AlexNet)


def test_torchvision_download_only_when_the_user_allows_it(empty_hub, monkeypatch):
    calls = []
    state = tvm.alexnet(weights=None).state_dict()

    def fake_download(self, progress):
        calls.append(self.url)
        return state

    monkeypatch.setattr(tvm.AlexNet_Weights, "get_state_dict", fake_download)
    with pytest.raises(FileNotFoundError):
        load_classifier("alexnet")
    assert calls == []
    monkeypatch.setenv("WEAKSEG_DOWNLOAD_WEIGHTS", "1")
    model = load_classifier("alexnet")
    assert len(calls) == 1 and calls[0].endswith("alexnet-owt-7be5be79.pth")
    assert torch.equal(model.features[0].weight, state["features.0.weight"])


def test_torchvision_checkpoint_is_read_from_the_hub_dir(empty_hub):
    source = tvm.resnet50(weights=None)
    torch.nn.init.constant_(source.fc.bias, 0.25)
    checkpoints = Path(empty_hub) / "checkpoints"
    checkpoints.mkdir()
    torch.save(source.state_dict(), checkpoints / "resnet50-0676ba61.pth")
    loaded = load_classifier("resnet50")
    assert torch.equal(loaded.fc.bias, torch.full((1000,), 0.25))
    assert torch.equal(loaded.conv1.weight, source.conv1.weight)
    assert not loaded.training


def test_unknown_backbone_lists_known_names():
    with pytest.raises(ValueError, match="efficientnet_lite0"):
        backbone_info("resnet18")


@pytest.mark.parametrize("name,size,exact", [("efficientnet_lite0", 64, True), ("resnet50", 64, True),
                                              ("vgg16", 64, True), ("alexnet", 96, False),
                                              ("inception_v3", 96, False)])
def test_feature_maps_have_the_registered_channels_and_strides(name, size, exact):
    info = BACKBONES[name]
    with torch.no_grad():
        maps = load_backbone(name, weights="random")(torch.zeros(1, 3, size, size))
    assert [m.shape[1] for m in maps] == list(info.channels)
    for m, stride in zip(maps, info.strides):
        assert m.shape[2] == m.shape[3]
        if exact:
            assert m.shape[2] == size // stride
        else:  # unpadded convolutions and pools lose a margin of the input, up to ~2 cells + 12 px
            assert size - 2 * stride - 12 <= m.shape[2] * stride <= size


def test_out_indices_pick_stages():
    model = load_backbone("efficientnet_lite0", out_indices=(1, 2, 3, 4))
    with torch.no_grad():
        maps = model(torch.zeros(2, 3, 64, 64))
    assert [tuple(m.shape) for m in maps] == [(2, 24, 16, 16), (2, 40, 8, 8), (2, 112, 4, 4), (2, 320, 2, 2)]
    with pytest.raises(ValueError, match="out_indices"):
        load_backbone("efficientnet_lite0", out_indices=(2, 5))


def test_preprocess_resizes_and_normalises():
    info = BACKBONES["resnet50"]
    images = [np.full((10, 30, 3), 255, np.uint8), np.zeros((40, 20, 3), np.uint8)]
    x = preprocess(images, info, 16)
    assert x.shape == (2, 3, 16, 16) and x.dtype == torch.float32
    mean, std = np.array(info.mean), np.array(info.std)
    np.testing.assert_allclose(x[0, :, 5, 7].numpy(), (1 - mean) / std, atol=1e-5)
    np.testing.assert_allclose(x[1, :, 5, 7].numpy(), -mean / std, atol=1e-5)
    with pytest.raises(ValueError, match="uint8"):
        preprocess([np.zeros((8, 8, 3), np.float32)], info, 16)
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        preprocess([np.zeros((8, 8), np.uint8)], info, 16)


@pytest.mark.parametrize("name,stage", [("efficientnet_lite0", 4), ("resnet50", 4), ("vgg16", 4)])
def test_dilated_backbones_keep_output_stride_8(name, stage):
    model = load_backbone(name, weights="random", out_indices=[stage], output_stride=8)
    with torch.no_grad():
        out = model(torch.zeros(1, 3, 64, 96))[0]
    assert out.shape[-2:] == (8, 12)


def test_output_stride_of_a_backbone_that_cannot_dilate_is_an_error():
    with pytest.raises(ValueError, match="offers output_stride"):
        load_backbone("alexnet", weights="random", output_stride=8)


def test_torch_free_registry_knows_torchvision_urls_and_hub_dir(monkeypatch, tmp_path):
    """weakseg.features.registry (imported by Snakemake without torch) agrees with torchvision and torch.hub."""
    from weakseg.features import registry
    from weakseg.features.backbones import _TORCHVISION_MODELS

    assert registry.TORCHVISION_WEIGHTS_URLS == {name: m[1].url for name, m in _TORCHVISION_MODELS.items()}
    for env in ({}, {"XDG_CACHE_HOME": str(tmp_path / "xdg")}, {"TORCH_HOME": str(tmp_path / "th")}):
        for key in ("XDG_CACHE_HOME", "TORCH_HOME"):
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        assert registry.torch_hub_dir() == Path(torch.hub.get_dir())
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert "are not at" in registry.missing_weights("vgg16")
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    (tmp_path / "hub" / "checkpoints" / "vgg16-397923af.pth").touch()
    assert registry.missing_weights("vgg16") is None and registry.missing_weights("efficientnet_lite0") is None
