"""The canonical dataset format: the reader rejects bad input with the file and the fix."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from weakseg.data.index import Dataset, DatasetError, DatasetMeta, validate_index

META = DatasetMeta(name="t", kind="groups", classes=("cat",), mask_encoding="binary", source="test")


def _row(**over):
    row = {"item": "cat/0", "split": "test", "image": "images/cat/0.jpg", "height": 10, "width": 20,
           "labels": ["cat"], "class": "cat", "group": "cat", "video": None, "shot": None, "frame": -1,
           "has_object": True, "box_annotated": True, "boxes": [[0.0, 0.0, 20.0, 10.0]], "box_labels": ["cat"],
           "mask": None}
    row.update(over)
    return row


def test_a_valid_row_passes():
    validate_index(pd.DataFrame([_row()]), META, "index.parquet")


@pytest.mark.parametrize("over, message", [
    ({"boxes": [[0.0, 0.0, 21.0, 10.0]]}, "outside its 20x10 image"),
    ({"boxes": [[5.0, 0.0, 5.0, 10.0]]}, "x_max <= x_min"),
    ({"labels": ["dog"]}, r"labels \['dog'\] not in meta.json"),
    ({"box_labels": []}, "1 boxes but 0 box labels"),
    ({"split": "training"}, "unknown splits"),
])
def test_bad_rows_are_named(over, message):
    with pytest.raises(DatasetError, match=message):
        validate_index(pd.DataFrame([_row(**over)]), META, "some/index.parquet")


def test_duplicate_items_and_missing_columns():
    with pytest.raises(DatasetError, match="duplicate item ids"):
        validate_index(pd.DataFrame([_row(), _row()]), META, "x")
    with pytest.raises(DatasetError, match=r"missing index columns \['mask'\]"):
        validate_index(pd.DataFrame([_row()]).drop(columns="mask"), META, "x")


def test_reader_names_missing_files_and_truncated_images(tiny_datasets, tmp_path):
    with pytest.raises(DatasetError, match="meta.json: not found"):
        Dataset(tmp_path / "nothing")
    root = tmp_path / "copy"
    shutil.copytree(tiny_datasets["syn_msrc"], root)
    ds = Dataset(root)
    item = ds.items()["item"].iloc[0]
    image = root / ds.row(item)["image"]
    image.write_bytes(image.read_bytes()[:20])
    with pytest.raises(DatasetError, match="cannot read image"):
        ds.image(item)
    meta = json.loads((root / "meta.json").read_text())
    del meta["kind"]
    (root / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(DatasetError, match="missing key 'kind'"):
        Dataset(root)


def test_mask_of_the_wrong_size_is_an_error(tiny_datasets, tmp_path):
    import cv2
    import numpy as np

    root = tmp_path / "copy"
    shutil.copytree(tiny_datasets["syn_msrc"], root)
    ds = Dataset(root)
    item = ds.items()["item"].iloc[0]
    cv2.imwrite(str(root / ds.row(item)["mask"]), np.zeros((5, 5), np.uint8))
    with pytest.raises(DatasetError, match="mask is 5x5, image is 96x96"):
        ds.mask(item)


def test_contact_sheet_tiles_annotated_items(tiny_datasets):
    import numpy as np

    from weakseg.data.preview import BOX_COLOUR, contact_sheet

    ds = Dataset(tiny_datasets["syn_pascal07_6x2"])
    sheet = contact_sheet(ds, n=8, cols=4)
    assert sheet.shape == (2 * 96, 4 * 96, 3)
    assert (sheet == np.array(BOX_COLOUR, np.uint8)).all(axis=2).any(), "boxes are drawn"
