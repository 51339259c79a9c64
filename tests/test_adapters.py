"""Converters of real benchmarks, on the real samples in ../shared/realdata when present."""

from __future__ import annotations

import numpy as np
import pytest

from weakseg.data.adapters import convert
from weakseg.data.index import Dataset


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
