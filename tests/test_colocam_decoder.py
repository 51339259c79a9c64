"""CoLo-CAM localizer f (F-CAM U-Net decoder) on the frozen classifier g: encoder maps, skip wiring, output shapes
and softmax, hand-computed parameter counts (ResNet50's matches Table 4 of the paper), frozen encoder, state dicts."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from weakseg.features.backbones import load_backbone
from weakseg.methods.colocam.classifier import FrameClassifier
from weakseg.methods.colocam.decoder import FCAMDecoder, LocalizationNet

LITE0_CHANNELS = (16, 24, 40, 112, 320)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def lite0(output_stride: int | None = 8, seed: int = 0, n_classes: int = 3) -> FrameClassifier:
    torch.manual_seed(seed)
    return FrameClassifier("efficientnet_lite0", weights="random", n_classes=n_classes, output_stride=output_stride)


@pytest.fixture(scope="module")
def nets() -> dict[int | None, LocalizationNet]:
    return {stride: LocalizationNet(lite0(stride)) for stride in (8, None)}


def image(h: int, w: int, batch: int = 2, seed: int = 1) -> torch.Tensor:
    return torch.randn(batch, 3, h, w, generator=torch.Generator().manual_seed(seed))


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("stride, spatial", [
    (8, [(36, 48), (18, 24), (9, 12), (9, 12), (9, 12)]),
    (None, [(36, 48), (18, 24), (9, 12), (5, 6), (3, 3)]),
])
def test_encoder_maps_every_stage_shallow_to_deep(stride, spatial):
    model = lite0(stride)
    x = image(72, 96)
    with torch.no_grad():
        maps = model.encoder_maps(x)
        last = model.features(x)
    assert [tuple(m.shape) for m in maps] == [(2, c, h, w) for c, (h, w) in zip(LITE0_CHANNELS, spatial)]
    assert model.encoder_channels == LITE0_CHANNELS
    torch.testing.assert_close(maps[-1], last, rtol=0, atol=0)  # the CAM methods' map is the deepest stage


def test_classifier_state_dict_does_not_depend_on_the_returned_stages():
    """A classifier saved before the backbone returned all stages (out_indices=[last]) has the same keys/shapes."""
    state = lite0().state_dict()
    old_body = load_backbone("efficientnet_lite0", "random", out_indices=[4], output_stride=8).state_dict()
    old = {**{f"features.body.{k}": v for k, v in old_body.items()}, "fc.weight": state["fc.weight"],
           "fc.bias": state["fc.bias"]}
    assert list(state) == list(old) and all(state[k].shape == old[k].shape for k in old)


@pytest.mark.parametrize("stride", [8, None])
@pytest.mark.parametrize("h, w", [(72, 96), (64, 64), (224, 224)])
def test_probabilities_shape_range_and_softmax(nets, stride, h, w):
    batch = 1 if h == 224 else 2
    with torch.no_grad():
        probs = nets[stride](image(h, w, batch))
    assert probs.shape == (batch, 2, h, w) and probs.dtype == torch.float32
    assert probs.min() >= 0 and probs.max() <= 1
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(batch, h, w))


def test_up_block_inputs_follow_the_skips_deep_to_shallow():
    """lite0 has 5 stages: block i concatenates stage 3 - i (112, 40, 24, 16 channels), block 4 has no skip."""
    decoder = FCAMDecoder(LITE0_CHANNELS)
    first_convs = [block.convs[0].weight.shape for block in decoder.blocks]
    assert first_convs == [(256, 320 + 112, 3, 3), (128, 256 + 40, 3, 3), (64, 128 + 24, 3, 3),
                           (32, 64 + 16, 3, 3), (16, 32, 3, 3)]
    assert decoder.head.weight.shape == (2, 16, 3, 3) and decoder.head.bias.shape == (2,)


def conv_inputs(decoder: FCAMDecoder, maps: list[torch.Tensor], size: tuple[int, int]) -> list[torch.Tensor]:
    seen = []
    handles = [b.convs.register_forward_pre_hook(lambda m, args: seen.append(args[0])) for b in decoder.blocks]
    with torch.no_grad():
        decoder.eval()(maps, size)
    for handle in handles:
        handle.remove()
    return seen


def test_same_resolution_skip_gets_the_deep_map_back_unchanged():
    """Stride-8 encoders: skip at the deep map's size. Nearest x2 then resizing back (bilinear, corners aligned)
    samples the corners of each 2 x 2 copy: the deep map itself is concatenated with the skip."""
    decoder = FCAMDecoder((1, 1), (1, 1))
    deep = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    skip = torch.tensor([[[[5.0, 6.0], [7.0, 8.0]]]])
    first, second = conv_inputs(decoder, [skip, deep], (4, 4))
    torch.testing.assert_close(first, torch.cat([deep, skip], dim=1), rtol=0, atol=0)
    assert second.shape == (1, 1, 4, 4)  # the last block: no skip, x2 only


def test_half_resolution_skip_gets_the_nearest_upsampled_map():
    decoder = FCAMDecoder((1, 1), (1, 1))
    deep = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    skip = torch.arange(16.0).view(1, 1, 4, 4)
    first, _ = conv_inputs(decoder, [skip, deep], (8, 8))
    up = torch.tensor([[1.0, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]).view(1, 1, 4, 4)
    torch.testing.assert_close(first, torch.cat([up, skip], dim=1), rtol=0, atol=0)


def test_zero_features_give_the_head_bias_softmax_background_first():
    """All block convolutions zero: the head sees zeros, the logits are its bias (0, log 3) everywhere, resized
    unchanged to the input: S^0 = 1/4 (background), S^1 = 3/4 (foreground)."""
    decoder = FCAMDecoder((4, 8), (6, 3)).eval()
    with torch.no_grad():
        for block in decoder.blocks:
            block.convs[0].weight.zero_()
            block.convs[3].weight.zero_()
        decoder.head.bias.copy_(torch.tensor([0.0, math.log(3.0)]))
        probs = decoder([torch.randn(1, 4, 5, 6), torch.randn(1, 8, 3, 3)], (17, 23))
    expected = torch.tensor([0.25, 0.75]).view(1, 2, 1, 1).expand(1, 2, 17, 23)
    torch.testing.assert_close(probs, expected)


def test_tiny_decoder_parameter_count_by_hand():
    """Block 0: conv 3x3 (8 + 4 -> 6, no bias) 648 + BN 12 + conv (6 -> 6) 324 + BN 12 = 996; block 1 (no skip):
    conv (6 -> 3) 162 + 6 + conv (3 -> 3) 81 + 6 = 255; head conv (3 -> 2) 54 + bias 2 = 56. Total 1307."""
    decoder = FCAMDecoder((4, 8), (6, 3))
    assert n_params(decoder) == 1307
    assert [n_params(b) for b in decoder.blocks] == [996, 255] and n_params(decoder.head) == 56


def test_resnet50_counts_match_table_4():
    """Table 4: 32.5M parameters in total, 9.0M learnable (the decoder). By hand, blocks (c_in, skip, width) =
    (2048, 1024, 256), (256, 512, 128), (128, 256, 64), (64, 64, 32), (32, 0, 16), each 9 w (c_in + skip) + 9 w^2
    + 4 w: 7668736 + 1032704 + 258304 + 46208 + 6976, head 290: 9013218."""
    net = LocalizationNet(FrameClassifier("resnet50", weights="random", n_classes=10, output_stride=8))
    assert sum(p.numel() for p in net.decoder_parameters()) == 9013218
    assert n_params(net) == 9013218 + 23508032 + 2048 * 10 + 10  # + ResNet50 without its fc + our fc


def test_classifier_frozen_in_train_mode_and_gets_no_gradient():
    net = LocalizationNet(lite0()).train()
    assert net.training and net.decoder.training
    assert not any(m.training for m in net.classifier.modules())
    assert not any(p.requires_grad for p in net.classifier.parameters())
    before = {k: v.clone() for k, v in net.classifier.state_dict().items()}
    decoder_bn = net.decoder.blocks[0].convs[1].running_mean.clone()
    net(image(64, 64))[:, 1].mean().backward()
    assert all(p.grad is None for p in net.classifier.parameters())
    assert all(p.grad is not None for p in net.decoder.parameters())
    for k, v in net.classifier.state_dict().items():  # BatchNorm statistics of g did not move
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)
    assert not torch.equal(net.decoder.blocks[0].convs[1].running_mean, decoder_bn)
    assert {id(p) for p in net.decoder_parameters()} == {id(p) for p in net.decoder.parameters()}


def test_classify_gives_the_classifier_logits(nets):
    x = image(64, 64)
    logits = nets[8].classify(x)
    assert logits.shape == (2, 3) and not logits.requires_grad
    torch.testing.assert_close(logits, nets[8].classifier(x))


def test_state_dict_round_trip_and_saved_classifier_loads():
    net = LocalizationNet(lite0(seed=0)).eval()
    assert all(k.startswith(("classifier.", "decoder.")) for k in net.state_dict())
    other = LocalizationNet(lite0(seed=5))
    other.load_state_dict(net.state_dict())
    x = image(64, 64)
    with torch.no_grad():
        torch.testing.assert_close(other.eval()(x), net(x), rtol=0, atol=0)
    trained = lite0(seed=7)
    fresh = LocalizationNet(lite0(seed=8))
    fresh.classifier.load_state_dict(trained.state_dict())  # strict: a saved classifier is g as it is
    torch.testing.assert_close(fresh.classify(x), trained(x))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="widths"):
        FCAMDecoder((4, 8, 16), (6, 3))
    with pytest.raises(ValueError, match="widths"):
        FCAMDecoder((4, 8), (6, 0))
    with pytest.raises(ValueError, match="encoder_channels"):
        FCAMDecoder((), ())
    decoder = FCAMDecoder((4, 8), (6, 3))
    with pytest.raises(ValueError, match="maps"):
        decoder([torch.zeros(1, 8, 3, 3)], (8, 8))
    with pytest.raises(ValueError, match="maps"):
        decoder([torch.zeros(1, 4, 5, 6), torch.zeros(1, 7, 3, 3)], (8, 8))
    with pytest.raises(ValueError, match="size"):
        decoder([torch.zeros(1, 4, 5, 6), torch.zeros(1, 8, 3, 3)], (8, 0))
    net = LocalizationNet(lite0())
    with pytest.raises(ValueError, match="x must be"):
        net(torch.zeros(1, 1, 32, 32))
