"""Qualitative figures (weakseg.tables.qualitative and weakseg.methods.<paper>.figures): exact pixels of the
drawing on hand-made images, the PNG's size, and the deterministic choice of items."""

from __future__ import annotations

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from weakseg.data.index import VOID
from weakseg.tables.qualitative import (
    GT_COLOUR,
    PRED_COLOUR,
    Panel,
    QualitativeFigure,
    blend,
    class_legend,
    compose,
    draw_box,
    mask_outline,
    panel_grid,
    render,
    round_robin,
    upscale,
    voc_palette,
)


def grey(h: int = 10, w: int = 12) -> np.ndarray:
    return np.full((h, w, 3), 100, np.uint8)


def coloured(image: np.ndarray, colour) -> np.ndarray:
    return (image == np.asarray(colour, np.uint8)).all(axis=2)


def test_a_box_colours_exactly_the_border_pixels_it_covers():
    out = draw_box(grey(), [2, 3, 6, 8], PRED_COLOUR)            # pixel columns 2..5, rows 3..7
    expected = np.zeros((10, 12), bool)
    expected[3, 2:6] = expected[7, 2:6] = expected[3:8, 2] = expected[3:8, 5] = True
    assert (coloured(out, PRED_COLOUR) == expected).all()
    assert (out[~expected] == 100).all()


def test_a_thick_box_grows_inwards_and_is_clipped_to_the_image():
    out = draw_box(grey(), [-3, 1, 7, 9], GT_COLOUR, thickness=2)    # left edge outside the image
    expected = np.zeros((10, 12), bool)
    expected[1:3, 0:7] = expected[7:9, 0:7] = expected[1:9, 0:2] = expected[1:9, 5:7] = True
    assert (coloured(out, GT_COLOUR) == expected).all()


def test_a_nan_box_draws_nothing_and_the_input_is_not_changed():
    image = grey()
    assert (draw_box(image, [np.nan] * 4, PRED_COLOUR) == image).all()
    draw_box(image, [0, 0, 5, 5], PRED_COLOUR)
    assert (image == 100).all()


def test_a_mask_overlay_changes_exactly_the_masked_pixels():
    mask = np.zeros((10, 12), bool)
    mask[2:5, 3:9] = True
    out = compose(Panel(image=grey(), mask=mask))
    changed = (out != 100).any(axis=2)
    assert (changed == mask).all()
    assert tuple(out[3, 4]) == (170, 55, 55)                       # round(0.55 * 100 + 0.45 * (255, 0, 0))
    assert (coloured(out, PRED_COLOUR) == mask_outline(mask)).all()  # and a solid red outline


def test_blend_mixes_with_the_given_weight():
    where = np.zeros((10, 12), bool)
    where[0, 0] = True
    assert tuple(blend(grey(), where, (200, 0, 50), alpha=0.5)[0, 0]) == (150, 50, 75)


def test_the_ground_truth_mask_is_drawn_as_its_green_outline():
    mask = np.zeros((10, 12), bool)
    mask[2:6, 3:8] = True
    outline = mask_outline(mask)
    assert outline.sum() == 2 * 5 + 2 * 2 and not outline[3:5, 4:7].any() and outline[2, 3] and outline[5, 7]
    assert (coloured(compose(Panel(image=grey(), gt_mask=mask)), GT_COLOUR) == outline).all()
    assert mask_outline(np.ones((3, 3), bool)).sum() == 8          # the image border is outside


def test_labels_take_the_voc_colours_over_the_faint_image():
    assert tuple(voc_palette()[1]) == (128, 0, 0) and tuple(voc_palette()[15]) == (192, 128, 128)
    labels = np.zeros((10, 12), np.int64)
    labels[1, 1], labels[2, 2] = 1, VOID
    out = compose(Panel(image=grey(), labels=labels))
    assert tuple(out[1, 1]) == (121, 25, 25)                       # 0.25 * 100 + 0.75 * (128, 0, 0)
    assert tuple(out[2, 2]) == (193, 193, 169)                     # void: VOC's (224, 224, 192)
    assert (out[labels == 0] == 25).all()                          # background: black


def test_a_heat_map_is_blended_with_the_jet_colours():
    heat = np.zeros((10, 12))
    heat[0, 0] = 1.0
    out = compose(Panel(image=np.zeros((10, 12, 3), np.uint8), heatmap=heat))
    assert tuple(out[0, 0]) == (64, 0, 0) and tuple(out[5, 5]) == (0, 0, 64)   # jet(1) = dark red, jet(0) = navy
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        compose(Panel(image=grey(), heatmap=heat + 1))


def test_compose_upscales_before_drawing_boxes_at_scaled_corners():
    out = compose(Panel(image=grey(4, 4), gt_boxes=np.array([[1, 1, 3, 3]])), scale=3, thickness=1)
    assert out.shape == (12, 12, 3)
    expected = np.zeros((12, 12), bool)
    expected[3, 3:9] = expected[8, 3:9] = expected[3:9, 3] = expected[3:9, 8] = True
    assert (coloured(out, GT_COLOUR) == expected).all()
    assert (upscale(np.arange(4).reshape(2, 2), 2) == [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]).all()


def test_render_writes_a_png_of_the_announced_size(tmp_path):
    panel = Panel(image=grey(72, 96), title="a", gt_boxes=np.array([[0, 0, 10, 10]]))
    legend = class_legend(["aeroplane", "bicycle"], [np.array([[0, 2]])])
    assert legend == (("bicycle", (0, 128, 0)),)
    figure = QualitativeFigure("title", panel_grid([panel] * 5, 4), "caption " * 40, legend)
    height, width = render(figure, tmp_path / "f.png")
    png = matplotlib.image.imread(tmp_path / "f.png")
    assert png.shape[:2] == (height, width)
    assert width == 4 * (192 + 6) + 6 and height > 2 * (144 + 26)
    render(figure, tmp_path / "g.png")
    assert (tmp_path / "f.png").read_bytes() == (tmp_path / "g.png").read_bytes()   # deterministic
    with pytest.raises(ValueError, match="no panel"):
        render(QualitativeFigure("empty", (), ""), tmp_path / "e.png")


def test_round_robin_takes_the_first_item_of_each_class_then_the_second():
    rows = pd.DataFrame({"item": ["a1", "b1", "a2", "ab", "c1"],
                         "labels": [["a"], ["b"], ["a"], ["a", "b"], ["c"]]})
    assert round_robin(rows, ["a", "b"], 10) == ["a1", "b1", "a2", "ab"]
    assert round_robin(rows, ["b", "a", "c"], 3) == ["b1", "a1", "c1"]
    assert round_robin(rows, ["c", "z"], 5) == ["c1"]


def test_fc_draws_annotated_solved_frames_with_masked_frames_first():
    from weakseg.methods.fc.figures import select_items

    index = pd.DataFrame({
        "item": ["cat/0", "cat/5", "dog/0", "dog/5", "dog/9"],
        "class": ["cat", "cat", "dog", "dog", "dog"],
        "labels": [["cat"], ["cat"], ["dog"], ["dog"], ["dog"]],
        "box_annotated": [True, True, True, True, True],
        "boxes": [[[0, 0, 1, 1]], [[0, 0, 1, 1]], [], [[0, 0, 1, 1]], [[0, 0, 1, 1]]],
        "mask": [None, "m.png", "m.png", None, "m.png"],
    })
    solved = ["cat/0", "cat/5", "dog/0", "dog/5"]                  # dog/9 was not solved
    assert select_items(index, solved, 3) == ["cat/5", "dog/5", "cat/0"]   # dog/0 shows no object


def test_ssnm_draws_the_first_evaluation_group_of_the_first_classes():
    from weakseg.methods.ssnm.figures import select_groups

    index = pd.DataFrame({"item": ["b/0", "a/0", "a/1", "c/0", "b/1"], "split": "test",
                          "class": ["b", "a", "a", "c", "b"], "mask": "m.png"})
    assert select_groups(index, 3, 2) == [("a", ["a/0", "a/1", "a/0"], 2), ("b", ["b/0", "b/1", "b/0"], 2)]


@pytest.mark.parametrize("paper", ["mcnn", "mil"])
def test_image_figures_draw_masked_images_of_the_split_by_class(paper):
    from importlib import import_module

    select_items = import_module(f"weakseg.methods.{paper}.figures").select_items
    index = pd.DataFrame({"item": ["t0", "v0", "v1", "v2", "v3"], "split": ["train", "val", "val", "val", "val"],
                          "labels": [["cat"], ["dog"], ["cat", "dog"], ["cat"], ["cow"]],
                          "mask": ["m", "m", "m", None, "m"]})
    assert select_items(index, ["cat", "dog", "cow"], 4) == ["v1", "v0", "v3"]


def test_colocam_draws_scored_frames_by_class():
    from weakseg.methods.colocam.figures import predicted_boxes, select_items

    rows = pd.DataFrame({"item": ["b/0", "a/0", "a/1"], "class": ["b", "a", "a"],
                         "labels": [["b"], ["a"], ["a"]]})
    assert select_items(rows, 2) == ["a/0", "b/0"]
    heat = np.zeros((6, 8), np.float32)
    heat[1:3, 2:5] = 1.0
    box, none = predicted_boxes([heat, heat], [0.5, 1.0])
    assert box.tolist() == [2, 1, 5, 3] and np.isnan(none).all()
