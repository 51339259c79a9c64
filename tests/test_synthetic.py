"""The synthetic benchmark: deterministic, and shaped like each real benchmark it stands for."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from weakseg.data.index import Dataset
from weakseg.data.synthetic import generate


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name != "index.parquet":
            h.update(p.relative_to(root).as_posix().encode())
            h.update(p.read_bytes())
    h.update(Dataset(root).index.to_json().encode())
    return h.hexdigest()


def test_same_seed_same_bytes_other_seed_other_images(tiny_config, tmp_path):
    cfg = tiny_config["synthetic"]
    generate("syn_msrc", cfg, tmp_path / "a")
    generate("syn_msrc", cfg, tmp_path / "b")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    generate("syn_msrc", {**cfg, "seed": cfg["seed"] + 1}, tmp_path / "c")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_regenerating_replaces_everything_and_leaves_no_partial(tiny_config, tmp_path):
    cfg = tiny_config["synthetic"]
    generate("syn_msrc", cfg, tmp_path / "d")
    stale = tmp_path / "d" / "images" / "stale.jpg"
    stale.write_bytes(b"old")
    generate("syn_msrc", cfg, tmp_path / "d")
    assert not stale.exists()
    assert not (tmp_path / "d" / ".partial").exists()


def test_video_set_is_split_by_video_into_shots(tiny_datasets):
    ds = Dataset(tiny_datasets["syn_yto"])
    df = ds.items()
    assert ds.meta.kind == "video" and ds.meta.mask_encoding == "binary"
    videos_per_split = df.groupby("video")["split"].nunique()
    assert (videos_per_split == 1).all(), "a video must not span two splits"
    assert set(df["split"]) == {"train", "val", "test"}
    assert (df.groupby("video")["class"].nunique() == 1).all()
    assert (df["labels"].map(len) == 1).all()
    assert df.groupby("shot")["frame"].apply(lambda f: sorted(f) == list(range(len(f)))).all()
    annotated = df[df["box_annotated"]]
    assert 0 < len(annotated) < len(df), "boxes on a subset of frames"
    assert 0 < df["mask"].notna().sum() < len(df), "masks on a subset of frames"


def test_video_boxes_are_tight_around_the_mask(tiny_datasets):
    ds = Dataset(tiny_datasets["syn_yto"])
    rows = ds.items()
    rows = rows[rows["mask"].notna() & rows["box_annotated"] & rows["has_object"]]
    assert len(rows)
    for item in rows["item"]:
        ys, xs = np.nonzero(ds.mask(item) == 1)
        np.testing.assert_array_equal(ds.boxes(item), [[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]])


def test_full_video_config_has_the_phenomena_the_papers_rely_on(repo_config, tmp_path):
    """Absent objects, static and moving shots, shots shorter than M-CNN's 20 frames."""
    cfg = repo_config["synthetic"]
    small = {**cfg["datasets"]["syn_yto"], "classes": ["cat", "dog"], "videos_per_class": {"train": 3, "test": 2}}
    generate("syn_yto", {**cfg, "datasets": {"syn_yto": small}}, tmp_path / "v")
    df = Dataset(tmp_path / "v").items()
    assert (~df["has_object"]).any(), "some frames without the labelled object"
    lengths = df.groupby("shot").size()
    assert (lengths < 20).any() and (lengths >= 20).any()
    centres = df[df["box_annotated"] & df["has_object"]].copy()
    centres["cx"] = centres["boxes"].map(lambda b: (b[0][0] + b[0][2]) / 2)
    spread = centres.groupby("shot")["cx"].agg(lambda c: c.max() - c.min())
    assert (spread > 5).any(), "some shots with object motion"


def test_group_sets_have_one_group_per_class_or_view(tiny_datasets):
    ds = Dataset(tiny_datasets["syn_pascal07_6x2"])
    df = ds.items()
    assert sorted(df["group"].unique()) == sorted(f"{c}_{v}" for c in ds.classes for v in ("left", "right"))
    assert (df["labels"].map(list) == df["class"].map(lambda c: [c])).all()
    for item in df["item"]:
        mask = ds.mask(item)
        assert set(np.unique(mask)) <= {0, 1}
        assert all(lab == ds.row(item)["class"] for lab in ds.row(item)["box_labels"])


def test_outliers_have_no_object_but_keep_the_group_label(repo_config, tmp_path):
    cfg = repo_config["synthetic"]
    generate("syn_object_discovery", cfg, tmp_path / "od")
    df = Dataset(tmp_path / "od").items()
    outliers = df[~df["has_object"]]
    assert 0.03 < len(outliers) / len(df) < 0.25, "about 10% outliers as configured"
    assert (outliers["boxes"].map(len) == 0).all()
    assert (outliers["labels"].map(list) == outliers["class"].map(lambda c: [c])).all()


def test_scenes_have_semantic_masks_with_void_and_multi_labels(tiny_datasets):
    ds = Dataset(tiny_datasets["syn_voc"])
    assert ds.meta.mask_encoding == "semantic" and len(ds.classes) == 20
    seen = set()
    for item in ds.items()["item"]:
        mask, row = ds.mask(item), ds.row(item)
        values = set(np.unique(mask)) - {0, 255}
        assert values == {ds.classes.index(c) + 1 for c in row["labels"]}
        seen |= set(np.unique(mask))
    assert 255 in seen, "a void band at object boundaries, as VOC has"


def test_classification_set_has_a_background_class(tiny_datasets):
    ds = Dataset(tiny_datasets["syn_imagenet"])
    df = ds.items()
    background = df[df["labels"].map(lambda l: list(l) == ["background"])]
    assert len(background) and (~background["has_object"]).all()
    assert df["mask"].isna().all()


def test_coco_seg_categories_are_disjoint_from_the_test_groups(repo_config):
    datasets = repo_config["synthetic"]["datasets"]
    coco = set(datasets["syn_coco_seg"]["classes"])
    for name in ("syn_msrc", "syn_icoseg", "syn_voc_coseg", "syn_object_discovery"):
        assert not coco & set(datasets[name]["classes"]), name


def test_unknown_dataset_names_the_defined_ones(tiny_config, tmp_path):
    with pytest.raises(KeyError, match="syn_yto"):
        generate("nope", tiny_config["synthetic"], tmp_path / "x")
