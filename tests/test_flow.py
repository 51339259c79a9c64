"""Optical flow (weakseg.preprocess.flow): known translations of a smooth random texture."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from weakseg.preprocess.flow import optical_flow, raft_weights_path, shot_flows

DX, DY = 3, -2
H, W = 64, 80
PAD = 8


def _texture(seed: int = 0) -> np.ndarray:
    """A smooth random RGB texture (Gaussian-blurred noise), uint8, (H + 2 PAD, W + 2 PAD, 3)."""
    noise = np.random.default_rng(seed).uniform(0, 1, (H + 2 * PAD, W + 2 * PAD, 3)).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), 2.0)
    return np.round(255 * (smooth - smooth.min()) / (smooth.max() - smooth.min())).astype(np.uint8)


def _frame(texture: np.ndarray, k: int) -> np.ndarray:
    """The texture after k steps of the motion (DX, DY): frame_k[y, x] = frame_0[y - k DY, x - k DX]."""
    y0, x0 = PAD - k * DY, PAD - k * DX
    return texture[y0:y0 + H, x0:x0 + W]


@pytest.fixture(scope="module")
def texture() -> np.ndarray:
    return _texture()


def _interior_median(flow: np.ndarray) -> np.ndarray:
    return np.median(flow[PAD:-PAD, PAD:-PAD].reshape(-1, 2), axis=0)


@pytest.mark.parametrize("method", ["dis", "farneback"])
def test_translation_is_recovered(texture: np.ndarray, method: str) -> None:
    prev, nxt = _frame(texture, 0), _frame(texture, 1)
    assert np.array_equal(prev[10, 10], nxt[10 + DY, 10 + DX])  # the convention the flow must follow
    flow = optical_flow(prev, nxt, method)
    assert flow.shape == (H, W, 2) and flow.dtype == np.float32
    np.testing.assert_allclose(_interior_median(flow), [DX, DY], atol=0.3)


def test_grey_frames_are_accepted(texture: np.ndarray) -> None:
    grey = [cv2.cvtColor(_frame(texture, k), cv2.COLOR_RGB2GRAY) for k in (0, 1)]
    np.testing.assert_allclose(_interior_median(optical_flow(*grey, preset="fast")), [DX, DY], atol=0.3)


def test_shot_flows_forward_and_last_frame(texture: np.ndarray) -> None:
    frames = [_frame(texture, k) for k in range(3)]
    flows = shot_flows(frames, "farneback")
    assert flows.shape == (3, H, W, 2) and flows.dtype == np.float32
    for t in range(3):  # constant motion: the negated backward flow of the last frame is forward too
        np.testing.assert_allclose(_interior_median(flows[t]), [DX, DY], atol=0.3)


def test_one_frame_shot_gives_zeros(texture: np.ndarray) -> None:
    flows = shot_flows([_frame(texture, 0)])
    assert flows.shape == (1, H, W, 2) and not flows.any()


def test_raft_without_weights_names_the_path(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    expected = raft_weights_path()
    assert expected.parent == tmp_path / "checkpoints" and expected.name.startswith("raft_small")
    img = np.zeros((H, W, 3), np.uint8)
    with pytest.raises(ValueError, match="offline") as err:
        optical_flow(img, img, "raft")
    assert str(expected) in str(err.value)


def test_raft_reads_weights_from_the_checkpoint_dir(monkeypatch: pytest.MonkeyPatch, tmp_path,
                                                    texture: np.ndarray) -> None:
    """With a weights file in place (random weights here) RAFT runs offline on a non-multiple-of-8 frame."""
    from torchvision.models.optical_flow import raft_small

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    raft_weights_path().parent.mkdir(parents=True)
    torch.save(raft_small(weights=None).state_dict(), raft_weights_path())
    prev, nxt = _frame(texture, 0)[:60, :77], _frame(texture, 1)[:60, :77]
    flow = optical_flow(prev, nxt, "raft", num_flow_updates=2)
    assert flow.shape == (60, 77, 2) and flow.dtype == np.float32 and np.isfinite(flow).all()


def test_bad_inputs_raise_value_error(texture: np.ndarray) -> None:
    img = _frame(texture, 0)
    with pytest.raises(ValueError, match="dis"):
        optical_flow(img, img, "brox")
    with pytest.raises(ValueError, match="winsize"):
        optical_flow(img, img, "farneback", window=5)
    with pytest.raises(ValueError, match="preset"):
        optical_flow(img, img, preset="slow")
    with pytest.raises(ValueError, match="uint8"):
        optical_flow(img.astype(np.float32), img)
    with pytest.raises(ValueError, match="sizes differ"):
        optical_flow(img, img[:-1])
    with pytest.raises(ValueError, match="one size"):
        shot_flows([img, img[:-1]])

