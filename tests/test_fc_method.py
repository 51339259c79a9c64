"""Foreground Clustering around the QP: inputs per frame, variants, solve groups, one solve."""

from __future__ import annotations

import numpy as np
import pytest

from weakseg.methods.fc.frames import FrameInputs, box_membership, region_means
from weakseg.methods.fc.notes import table_notes
from weakseg.methods.fc.run import solve_frames
from weakseg.methods.fc.targets import solve_groups
from weakseg.methods.fc.variants import variant


def test_membership_needs_the_covered_fraction_of_each_superpixel():
    labels = np.array([[0, 0, 1, 1],
                       [0, 0, 1, 1],
                       [2, 2, 3, 3]], dtype=np.int32)
    box = np.array([[0, 0, 3, 2]], float)    # all of 0, half of 1, none of 2 and 3
    np.testing.assert_array_equal(box_membership(labels, box, 0.5), [[True, True, False, False]])
    np.testing.assert_array_equal(box_membership(labels, box, 0.75), [[True, False, False, False]])
    values = np.arange(12, dtype=float).reshape(3, 4)
    per_sp, per_box = region_means(values, labels, box)
    np.testing.assert_allclose(per_sp, [(0 + 1 + 4 + 5) / 4, (2 + 3 + 6 + 7) / 4, 8.5, 10.5])
    np.testing.assert_allclose(per_box, [(0 + 1 + 2 + 4 + 5 + 6) / 6])


def test_repository_variants_are_configurations_of_one_objective(repo_config):
    variants = {n: variant(n, c) for n, c in repo_config["fc"]["variants"].items()}
    assert variants["full"].terms - variants["qp_loc_seg"].terms == {"foreground"}
    assert variants["lp_sal"].has_boxes and not variants["lp_sal"].has_superpixels
    assert variants["qp_seg"].has_superpixels and not variants["qp_seg"].coupled
    assert variants["full"].coupled and variants["tjlf14"].scope == "class"
    assert variants["fst"].source == "motion_fst"
    with pytest.raises(ValueError, match="unknown terms"):
        variant("x", {"terms": ["box_saliency", "colour"]})


def test_solve_groups_take_test_videos_and_whole_classes():
    info = {"kind": "video", "units": {"cat000": [], "cat001": [], "dog002": []},
            "splits": {"cat000": ["train"], "cat001": ["test"], "dog002": ["test"]},
            "classes": {"cat": ["cat000", "cat001"], "dog": ["dog002"]}}
    assert solve_groups(info, variant("full", {"terms": ["box_saliency"]}), ["test"]) == {
        "cat001": ["cat001"], "dog002": ["dog002"]}
    assert solve_groups(info, variant("t", {"terms": ["box_saliency"], "scope": "class"}), ["train", "test"]) == {
        "cat": ["cat000", "cat001"], "dog": ["dog002"]}
    groups = {**info, "kind": "groups"}
    assert len(solve_groups(groups, variant("full", {"terms": ["box_saliency"]}), ["test"])) == 3


def _frame(rng: np.random.Generator, item: str) -> FrameInputs:
    """A 12x12 frame of nine 4x4 superpixels; box 0 covers the salient centre one."""
    labels = np.repeat(np.repeat(np.arange(9).reshape(3, 3), 4, 0), 4, 1).astype(np.int32)
    boxes = np.array([[4, 4, 8, 8], [0, 0, 8, 8], [4, 0, 12, 12], [0, 0, 12, 4]], np.float32)
    saliency = np.full((12, 12), 0.1)
    saliency[4:8, 4:8] = 0.9
    sp_sal, box_sal = region_means(saliency, labels, boxes)
    centroids = np.array([[2 + 4 * (j % 3), 2 + 4 * (j // 3)] for j in range(9)], np.float32)
    features = rng.normal(size=(4, 32)).astype(np.float32)
    return FrameInputs(item=item, labels=labels, centroids=centroids, colours=rng.uniform(0, 255, (9, 3)),
                       histograms=rng.integers(0, 16, (9, 343)), bow=rng.dirichlet(np.ones(20), 9),
                       sp_saliency=sp_sal, boxes=boxes, box_saliency=box_sal,
                       box_features=features / np.linalg.norm(features, axis=1, keepdims=True),
                       membership=box_membership(labels, boxes, 0.5))


@pytest.mark.parametrize("name", ["lp_sal", "qp_loc", "full", "qp_seg", "joulin14"])
def test_one_solve_gives_a_box_and_a_mask_inside_it(repo_config, name):
    rng = np.random.default_rng(0)
    frames = [_frame(rng, f"f{i}") for i in range(3)]
    v = variant(name, repo_config["fc"]["variants"][name])
    predictions, solution = solve_frames(frames, v, repo_config["fc"]["params"], ["s0"] * 3)
    assert solution.status.startswith("optimal")
    for frame, pred in zip(frames, predictions):
        assert pred.mask.shape == (12, 12) and pred.mask.any()
        if v.has_boxes:
            x0, y0, x1, y1 = pred.box.astype(int)
            assert not pred.mask[:, :x0].any() and not pred.mask[:y0].any()
            assert not pred.mask[:, x1:].any() and not pred.mask[y1:].any()
        else:
            assert np.isnan(pred.box).all()
    if name == "lp_sal":  # the most salient box (mean saliency) is the centre box in every frame
        assert all(np.array_equal(p.box, [4, 4, 8, 8]) for p in predictions)


def test_table_notes_name_the_substitutes(repo_config):
    notes = " ".join(table_notes(repo_config))
    assert "selective_search" in notes and "efficientnet_lite0" in notes and "AlexNet" in notes
    assert "test split videos" in notes


def test_cross_image_box_weights_match_the_pairwise_definition():
    from weakseg.methods.fc.assemble import cross_image_box_weights

    rng = np.random.default_rng(1)
    frames = [_frame(rng, f"f{i}") for i in range(3)]
    feats = np.concatenate([f.box_features for f in frames]).astype(np.float64)
    d2 = ((feats[:, None] - feats[None]) ** 2).sum(-1)
    owner = np.repeat(np.arange(3), 4)
    other = owner[:, None] != owner[None]
    expected = np.where(other, np.exp(-d2 / d2[other].mean()), 0.0)
    np.testing.assert_allclose(cross_image_box_weights(frames), expected, atol=1e-6)
