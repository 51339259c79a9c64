"""CoLo-CAM frame classifier (GAP + FC on a registry backbone) and its torchcam CAMs: shapes, range, hooks removed,
eval mode, no parameter gradients, and a planted case whose CAM must peak where the selected channel fires."""

from __future__ import annotations

import pytest
import torch
import torchcam.methods
from torch import nn
from torchcam.methods.core import _CAM

from weakseg.methods.colocam.cams import CAM_METHODS, EXTRACTORS, class_activation_maps
from weakseg.methods.colocam.classifier import FrameClassifier

SIZE = 64


def hook_count(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in model.modules())


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny() -> FrameClassifier:
    torch.manual_seed(0)
    return FrameClassifier("efficientnet_lite0", weights="random", n_classes=3, output_stride=8)


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    return torch.randn(2, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(1))


def planted_classifier(fc_weight: list[list[float]]) -> FrameClassifier:
    """``features`` replaced by a fixed stride-4 conv that averages each input channel over 4x4 cells (3 channels,
    16x16 map for a 64x64 input); ``fc`` weights ``fc_weight`` (K x 3), zero bias."""
    torch.manual_seed(0)
    model = FrameClassifier("efficientnet_lite0", weights="random", n_classes=len(fc_weight), output_stride=8)
    conv = nn.Conv2d(3, 3, kernel_size=4, stride=4, bias=False)
    with torch.no_grad():
        conv.weight.zero_()
        for c in range(3):
            conv.weight[c, c] = 1.0 / 16
    model.features = conv
    model.fc = nn.Linear(3, len(fc_weight))
    with torch.no_grad():
        model.fc.weight.copy_(torch.tensor(fc_weight))
        model.fc.bias.zero_()
    return model.freeze()


# channel 1 fires in rows 8..23, cols 40..55 (region A); channel 0 in rows 40..55, cols 8..23 (region B). The
# amplitude 10 dwarfs Smooth-GradCAM++'s input noise (std 0.3, 0.075 after the 4x4 average), which reaches the map.
REGION_A = (slice(8, 24), slice(40, 56))
REGION_B = (slice(40, 56), slice(8, 24))
SELECT = [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]  # class 0 <- channel 1 (region A), class 1 <- channel 0 (region B)


def planted_images() -> torch.Tensor:
    x = torch.zeros(2, 3, SIZE, SIZE)
    x[:, 1][(slice(None), *REGION_A)] = 10.0
    x[:, 0][(slice(None), *REGION_B)] = 10.0
    return x


def far_from(region: tuple[slice, slice], margin: int = 4) -> torch.Tensor:
    """True on pixels more than ``margin`` pixels away from ``region`` (bilinear blur stays within a cell)."""
    near = torch.zeros(SIZE, SIZE, dtype=torch.bool)
    near[max(region[0].start - margin, 0):region[0].stop + margin, max(region[1].start - margin, 0):region[1].stop
         + margin] = True
    return ~near


def test_method_names_are_torchcam_classes():
    expected = {"cam": "CAM", "gradcam": "GradCAM", "gradcampp": "GradCAMpp", "smooth_gradcampp": "SmoothGradCAMpp",
                "xgradcam": "XGradCAM", "layercam": "LayerCAM"}
    assert tuple(EXTRACTORS) == CAM_METHODS == tuple(expected)
    for name, cls_name in expected.items():
        assert EXTRACTORS[name] is getattr(torchcam.methods, cls_name)
        assert issubclass(EXTRACTORS[name], _CAM)


def test_classifier_logits_and_hooked_layer(tiny, images):
    with torch.no_grad():
        logits = tiny(images)
        fmap = tiny.features(images)
    assert logits.shape == (2, 3)
    assert fmap.shape == (2, 320, SIZE // 8, SIZE // 8)  # lite0's last stage, output stride 8
    assert tiny.fc.in_features == 320 and torch.count_nonzero(tiny.fc.bias) == 0
    torch.testing.assert_close(logits, tiny.fc(fmap.mean(dim=(2, 3))))  # head = GAP + FC


def test_resnet50_last_map_is_28_at_224_over_8():
    model = FrameClassifier("resnet50", weights="random", n_classes=10, output_stride=8)
    with torch.no_grad():
        fmap = model.features(torch.zeros(1, 3, SIZE, SIZE))
    assert fmap.shape == (1, 2048, SIZE // 8, SIZE // 8)  # 28 x 28 for a 224 input, as the authors' layer4
    assert model(torch.zeros(1, 3, SIZE, SIZE)).shape == (1, 10)


def test_classifier_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_classes"):
        FrameClassifier("efficientnet_lite0", weights="random", n_classes=0)
    with pytest.raises(ValueError, match="unknown backbone"):
        FrameClassifier("resnet18", weights="random")


def test_freeze_stops_gradients_and_sets_eval():
    model = planted_classifier(SELECT)
    assert not model.training and not any(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize("method", CAM_METHODS)
def test_every_method_shape_range_no_hooks_no_grads(tiny, images, method):
    tiny.train()  # the call must run in eval mode and give the mode back
    before = hook_count(tiny)
    torch.manual_seed(2)
    maps = class_activation_maps(tiny, images, torch.tensor([0, 2]), method)
    assert hook_count(tiny) == before == 0
    assert tiny.training and all(m.training for m in tiny.modules())
    assert all(p.grad is None for p in tiny.parameters())
    assert maps.shape == (2, SIZE, SIZE) and maps.dtype == torch.float32
    assert torch.isfinite(maps).all() and maps.min() >= 0 and maps.max() <= 1
    for m in maps:  # min-max normalised per image (or all zeros for a constant map)
        assert (m.min().item(), m.max().item()) in ((0.0, 1.0), (0.0, 0.0))
    tiny.eval()
    torch.manual_seed(2)
    torch.testing.assert_close(class_activation_maps(tiny, images, [0, 2], method), maps)  # eval mode was used


@pytest.mark.parametrize("method", CAM_METHODS)
def test_planted_channel_region_is_the_peak(method):
    model = planted_classifier(SELECT)
    torch.manual_seed(3)
    maps = class_activation_maps(model, planted_images(), [0, 1], method)  # image 0: class 0, image 1: class 1
    assert hook_count(model) == 0
    for m, region in zip(maps, (REGION_A, REGION_B)):
        row, col = divmod(int(m.argmax()), SIZE)
        assert region[0].start <= row < region[0].stop and region[1].start <= col < region[1].stop
        inner = m[region[0].start + 2:region[0].stop - 2, region[1].start + 2:region[1].stop - 2]
        assert inner.min() > 0.95
        assert m[far_from(region)].max() < 0.05


def test_cam_known_values_min_max_of_fc_combination():
    """CAM of class 0 = A_1 - A_0 on the 16x16 map: +10 / -10 / 0 cells; min-max: 1 in A, 0 in B, 0.5 elsewhere."""
    maps = class_activation_maps(planted_classifier([[-1.0, 1.0, 0.0]]), planted_images()[:1], [0], "cam")[0]
    assert maps[12:20, 44:52].eq(1).all() and maps[44:52, 12:20].eq(0).all() and maps[30:34, 30:34].eq(0.5).all()


@pytest.mark.parametrize("method", ["cam", "layercam"])
def test_hooks_removed_and_grad_mode_kept_when_the_forward_fails(method):
    model = planted_classifier(SELECT)
    model.fc = nn.Linear(4, 2)  # does not fit the 3-channel map: fails after the hooked layer ran
    with pytest.raises(RuntimeError):
        class_activation_maps(model, planted_images(), [0, 1], method)
    assert hook_count(model) == 0 and torch.is_grad_enabled()
    with torch.no_grad():
        with pytest.raises(RuntimeError):
            class_activation_maps(model, planted_images(), [0, 1], method)
        assert hook_count(model) == 0 and not torch.is_grad_enabled()


@pytest.mark.parametrize("method", ["cam", "layercam"])
def test_same_maps_inside_inference_mode(tiny, images, method):
    expected = class_activation_maps(tiny, images, [1, 0], method)
    with torch.inference_mode():
        inside = class_activation_maps(tiny, images.clone(), [1, 0], method)
        assert torch.is_inference_mode_enabled()
    torch.testing.assert_close(inside, expected, rtol=0, atol=0)


@pytest.mark.parametrize("kwargs, match", [
    ({"method": "scorecam"}, "method"),
    ({"images": torch.zeros(2, 1, SIZE, SIZE)}, "images"),
    ({"images": torch.zeros(2, 3, SIZE, SIZE, dtype=torch.uint8)}, "images"),
    ({"class_idx": [0]}, "class_idx"),
    ({"class_idx": [0.0, 1.0]}, "class_idx"),
    ({"class_idx": [0, 3]}, "0..2"),
])
def test_bad_inputs_raise(tiny, images, kwargs, match):
    args = {"model": tiny, "images": images, "class_idx": [0, 1], "method": "layercam", **kwargs}
    with pytest.raises(ValueError, match=match):
        class_activation_maps(**args)


def test_empty_batch_gives_empty_maps(tiny):
    assert class_activation_maps(tiny, torch.zeros(0, 3, SIZE, SIZE), [], "layercam").shape == (0, SIZE, SIZE)


def test_model_without_fc_is_rejected(images):
    with pytest.raises(ValueError, match="submodule 'features'"):
        class_activation_maps(nn.Sequential(nn.Conv2d(3, 3, 1)), images, [0, 1], "cam")


def test_smooth_gradcampp_is_reproducible_and_leaves_the_global_rng_alone():
    torch.manual_seed(0)
    model = FrameClassifier("efficientnet_lite0", weights="random", n_classes=3, output_stride=8)
    images = torch.randn(2, 3, 32, 40)
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    first = class_activation_maps(model, images, [0, 2], "smooth_gradcampp")
    assert torch.equal(torch.rand(1), expected_next)            # the caller's random stream is not consumed
    second = class_activation_maps(model, images, [0, 2], "smooth_gradcampp")
    assert torch.equal(first, second)
