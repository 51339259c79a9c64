"""Unit files, units of work and the product configuration checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from weakseg.data.index import Dataset
from weakseg.preprocess.run import check_products, select_items
from weakseg.preprocess.store import load_unit, save_unit
from weakseg.preprocess.units import dataset_units


def test_unit_file_round_trip_with_ragged_shapes(tmp_path):
    labels = [np.arange(6, dtype=np.int32).reshape(2, 3), np.arange(20, dtype=np.int32).reshape(4, 5)]
    scores = [np.array([0.5, 0.25], np.float32), np.zeros(0, np.float32)]
    save_unit(tmp_path / "u.npz", ["a", "b"], {"labels": labels, "scores": scores}, {"method": "slic"})
    unit = load_unit(tmp_path / "u.npz")
    assert unit.items == ["a", "b"] and unit.attrs == {"method": "slic"}
    np.testing.assert_array_equal(unit.get("labels", "b"), labels[1])
    assert unit.get("labels", "b").dtype == np.int32
    assert unit.get("scores", "b").shape == (0,)
    np.testing.assert_array_equal(unit.all("scores")[0], scores[0])
    with pytest.raises(KeyError, match="no field 'mask'"):
        unit.get("mask", "a")
    with pytest.raises(KeyError, match="no item 'c'"):
        unit.get("labels", "c")


def test_unit_file_rejects_inconsistent_fields(tmp_path):
    with pytest.raises(ValueError, match="has 1 arrays for 2 items"):
        save_unit(tmp_path / "u.npz", ["a", "b"], {"x": [np.zeros(2)]})
    with pytest.raises(ValueError, match="mixes dtypes"):
        save_unit(tmp_path / "u.npz", ["a", "b"], {"x": [np.zeros(2), np.zeros(2, np.int32)]})
    assert not (tmp_path / "u.npz").exists()
    with pytest.raises(FileNotFoundError, match="preprocess target"):
        load_unit(tmp_path / "u.npz")


def test_units_are_videos_groups_or_chunks(tiny_datasets):
    videos = Dataset(tiny_datasets["syn_yto"]).index
    units = dataset_units(videos)
    assert sorted(units) == sorted(videos["video"].unique())
    assert sum(map(len, units.values())) == len(videos)
    groups = Dataset(tiny_datasets["syn_pascal07_6x2"]).index
    assert sorted(dataset_units(groups)) == sorted(groups["group"].unique())
    scenes = Dataset(tiny_datasets["syn_voc"]).index
    chunks = dataset_units(scenes, chunk=5)
    assert list(chunks) == [f"chunk{i:04d}" for i in range(3)]
    assert [len(v) for v in chunks.values()] == [5, 5, 4]


def test_key_frames_are_the_box_annotated_ones(tiny_datasets):
    ds = Dataset(tiny_datasets["syn_yto"])
    unit = dataset_units(ds.index)
    items = next(iter(unit.values()))
    keys = select_items(ds, items, "box_annotated")
    assert keys and set(keys) < set(items)
    assert ds.index.set_index("item").loc[keys, "box_annotated"].all()
    with pytest.raises(ValueError, match="'items: some'"):
        select_items(ds, items, "some")


def test_product_config_checks_name_the_key():
    good = {"f": {"kind": "flow", "method": "dis"}, "m": {"kind": "motion", "flow": "f", "iterations": 4}}
    check_products(good)
    with pytest.raises(ValueError, match=r"'preprocess.products.m.flow' names 'x', which is not a flow product"):
        check_products({**good, "m": {"kind": "motion", "flow": "x", "iterations": 4}})
    with pytest.raises(ValueError, match=r"'preprocess.products.b' \(kind boxes\) lacks keys \['per_image'\]"):
        check_products({"b": {"kind": "boxes", "method": "selective_search"}})


def test_every_product_of_the_repository_config_is_consistent(repo_config):
    check_products(repo_config["preprocess"]["products"])
    assert isinstance(pd.Series(repo_config["preprocess"]["build"]), pd.Series)


def test_dependencies_come_first_and_saliency_needs_flow_only_on_videos(repo_config):
    from weakseg.preprocess.run import with_dependencies

    products = repo_config["preprocess"]["products"]
    video = with_dependencies(products, ["features_ss30", "saliency", "motion_fst"], video=True)
    assert video.index("boxes_ss30") < video.index("features_ss30")
    assert video.index("flow_farneback") < video.index("saliency")
    assert video.count("flow_farneback") == 1
    still = with_dependencies(products, ["saliency", "dsift_quickshift"], video=False)
    assert still == ["saliency", "sp_quickshift", "dsift_quickshift"]


def test_merged_units_read_like_one(tmp_path):
    from weakseg.preprocess.store import merge_units

    save_unit(tmp_path / "a.npz", ["a0", "a1"], {"x": [np.zeros((2, 4)), np.ones((1, 4))]})
    save_unit(tmp_path / "b.npz", ["b0"], {"x": [np.full((3, 4), 2.0)]})
    merged = merge_units([load_unit(tmp_path / "a.npz"), load_unit(tmp_path / "b.npz")])
    assert merged.items == ["a0", "a1", "b0"]
    np.testing.assert_array_equal(merged.get("x", "b0"), np.full((3, 4), 2.0))
    np.testing.assert_array_equal(merged.get("x", "a1"), np.ones((1, 4)))


def test_unit_classes_group_videos_by_class_and_skip_scenes(tiny_datasets):
    from weakseg.preprocess.units import unit_classes

    videos = Dataset(tiny_datasets["syn_yto"]).index
    by_class = unit_classes(videos, dataset_units(videos))
    assert sorted(by_class) == ["aeroplane", "car", "horse"]
    assert sum(map(len, by_class.values())) == videos["video"].nunique()
    scenes = Dataset(tiny_datasets["syn_voc"]).index
    assert unit_classes(scenes, dataset_units(scenes, chunk=5)) == {}
