"""Converters of real benchmarks, on the real samples in ../shared/realdata when present."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.io

from weakseg.data.adapters import convert
from weakseg.data.index import Dataset, DatasetError


def test_pascal07_6x2_from_the_official_voc_layout(realdata, tmp_path):
    index = convert("voc07_6x2", realdata / "pascal07_6x2" / "VOCdevkit" / "VOC2007", tmp_path / "p07", "p07")
    assert len(index) == 478  # 463 images; 14 listed in two groups, one of them in three
    assert index["item"].str.split("/").str[1].nunique() == 463
    sizes = index.groupby("group").size()
    assert len(sizes) == 12 and sizes.min() == 21 and sizes.max() == 50
    assert sizes["bus_left"] == 21 and sizes["bicycle_right"] == 50
    ds = Dataset(tmp_path / "p07")
    # 000017.xml: a person (185,62)-(279,199) and a horse (90,78)-(403,336), 1-based inclusive
    np.testing.assert_array_equal(ds.boxes("horse_left/000017"), [[89, 77, 403, 336]])
    assert ds.row("horse_left/000017")["labels"].tolist() == ["horse"]
    assert ds.image("horse_left/000017").shape == (364, 480, 3)


def test_unknown_format_and_missing_root_are_named(tmp_path):
    with pytest.raises(ValueError, match="unknown real dataset format 'voc99'"):
        convert("voc99", tmp_path, tmp_path / "o", "x")
    with pytest.raises(FileNotFoundError, match="real_datasets.x.root"):
        convert("voc07_6x2", tmp_path / "nope", tmp_path / "o", "x")


def _osd_mat(path, ids):
    """A list in the layout of huyvvo/OSD's VOC2007_6x2_imglist/<class>_<view>.mat: an (n, 1) cell array 'id'."""
    cells = np.empty((len(ids), 1), dtype=object)
    for i, image_id in enumerate(ids):
        cells[i, 0] = np.array([image_id])
    scipy.io.savemat(path, {"id": cells})


def test_pascal07_6x2_group_lists_as_osd_mat_files_give_the_same_dataset(realdata, tmp_path):
    voc = realdata / "pascal07_6x2" / "VOCdevkit" / "VOC2007"
    lists = tmp_path / "VOC2007_6x2_imglist"
    lists.mkdir()
    for txt in sorted((voc / "ImageSets" / "Main").glob("6x2_*.txt")):
        _osd_mat(lists / (txt.stem.removeprefix("6x2_") + ".mat"), txt.read_text().split())
    from_txt = convert("voc07_6x2", voc, tmp_path / "txt", "p07")
    from_mat = convert("voc07_6x2", voc, tmp_path / "mat", "p07", lists=lists)
    pd.testing.assert_frame_equal(from_txt, from_mat)


def test_pascal07_6x2_missing_list_names_both_forms(tmp_path):
    with pytest.raises(DatasetError, match=r"6x2_aeroplane_left.txt: group list not found .* aeroplane_left.mat"):
        convert("voc07_6x2", tmp_path, tmp_path / "o", "p07", lists=tmp_path)
