"""Bad inputs of the training methods stop with an error naming what is wrong (issue #12)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
import yaml
from conftest import REPO

from weakseg.data.index import Dataset
from weakseg.training import load

LOG = logging.getLogger("test")
CONFIG = yaml.safe_load((REPO / "config.yaml").read_text())


class _Masks:
    """A motion product's unit data (weakseg.preprocess.store.UnitData interface) of empty masks."""

    def __init__(self, ds: Dataset):
        self.items = list(ds.index["item"])
        self.ds = ds

    def get(self, field, item):
        row = self.ds.row(item)
        return np.zeros((row["height"], row["width"]), bool)


def test_mcnn_without_any_motion_segment_names_the_pruning(tiny_datasets, tmp_path):
    from weakseg.methods.mcnn.run import train_variant

    ds = Dataset(tiny_datasets["syn_yto"])
    cfg = {**CONFIG["mcnn"], "pruning": {"min_frames": 4, "min_fg": 0.025, "max_fg": 0.5, "frames_per_shot": 4}}
    with pytest.raises(ValueError, match=r"no training sample \(no shot survived the pruning of config 'mcnn.pruning'"):
        train_variant("mcnn_star_large", cfg, 0, ds, {"all": _Masks(ds)}, None, None, str(tmp_path / "m.pt"), LOG,
                      torch.device("cpu"))
    assert not (tmp_path / "m.pt").exists()


def test_ssnm_on_a_set_without_masks_says_so(tiny_datasets, tmp_path):
    from weakseg.methods.ssnm.run import train_variant

    with pytest.raises(ValueError, match="no masked training image with a class"):
        train_variant("full", CONFIG["ssnm"], 0, Dataset(tiny_datasets["syn_imagenet"]), str(tmp_path / "s.pt"), LOG,
                      torch.device("cpu"))


def test_mil_classification_set_must_cover_the_segmentation_classes(tiny_datasets, tmp_path):
    from weakseg.methods.mil.run import train_model

    with pytest.raises(ValueError, match=r"lacks the segmentation classes \['unicorn'\]"):
        train_model("lse", CONFIG["mil"], 0, Dataset(tiny_datasets["syn_imagenet"]), ["aeroplane", "unicorn"],
                    str(tmp_path / "l.pt"), LOG, torch.device("cpu"))


def test_a_truncated_checkpoint_is_named_with_the_fix(tmp_path):
    path = tmp_path / "model.pt.epoch.pt"
    torch.save({"model": {"w": torch.zeros(100)}}, path)
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(ValueError, match=r"model.pt.epoch.pt: not a readable weakseg checkpoint .* delete it to retrain"):
        load(path)


def test_colocam_bad_inputs_name_what_is_wrong(tiny_datasets):
    from weakseg.methods.colocam.decoder_training import BatchSampler
    from weakseg.methods.colocam.frames import drop_shots, training_shots
    from weakseg.methods.colocam.run import scored_frames
    from weakseg.methods.colocam.variants import variant

    cfg = CONFIG["colocam"]
    ds = Dataset(tiny_datasets["syn_yto"])
    shots = training_shots(ds.index, ["train"], ds.classes)
    with pytest.raises(ValueError, match=r"the CAM cache lacks \d+ training frames"):
        BatchSampler(shots, {}, variant("colocam", cfg), cfg)
    with pytest.raises(ValueError, match="removing 5 shots would leave class"):
        drop_shots(shots, 5, np.random.default_rng(0))     # tiny classes have 1-2 train shots
    ds.index["boxes"] = [[] for _ in range(len(ds.index))]    # every annotated frame empty
    with pytest.raises(ValueError, match="no test frame has a ground-truth box; CorLoc needs box-annotated frames"):
        scored_frames(ds, "test", LOG)


def test_skipped_items_travel_with_the_evaluation_into_the_footnotes(tiny_datasets, tmp_path):
    import pandas as pd

    from weakseg.evaluation import ABSENT_OBJECT as ABSENT
    from weakseg.evaluation import evaluate_boxes, merge_evaluations, note_skipped, skipped_notes
    from weakseg.io import write_parquet
    from weakseg.methods.colocam.run import scored_frames

    ds = Dataset(tiny_datasets["syn_yto"])
    annotated = ds.index[ds.index["split"].eq("test") & ds.index["box_annotated"]]
    before = sum(len(b) == 0 for b in annotated["boxes"])
    with_box = annotated.index[[len(b) > 0 for b in annotated["boxes"]]]
    ds.index.at[with_box[0], "boxes"] = []                    # one more annotated test frame without the object
    kept, absent = scored_frames(ds, "test", LOG)
    assert absent == before + 1 and len(kept) == len(annotated) - absent
    rows = pd.DataFrame({"item": list(kept["item"]), "correct": True})
    write_parquet(tmp_path / "a.parquet", note_skipped(rows, {ABSENT: absent, "other reason": 0}))
    back = pd.read_parquet(tmp_path / "a.parquet")
    assert back.attrs["skipped"] == {ABSENT: absent}          # zero counts are dropped
    notes = skipped_notes({("colocam", "yto_v1"): back, ("tcam", "yto_v1"): back, ("fcam", "yto_v1"): rows})
    assert notes == [f"yto_v1: {absent} {ABSENT} skipped, in colocam, tcam."]
    assert skipped_notes({("colocam", "yto_v1"): back}) == [f"yto_v1: {absent} {ABSENT} skipped, in every measured row."]
    boxes = evaluate_boxes(ds, {i: np.array([0.0, 0.0, 5.0, 5.0]) for i in ds.items("test")["item"]})
    assert boxes.attrs["skipped"] == {ABSENT: absent} and len(boxes) == len(kept)   # FC / M-CNN CorLoc too
    assert merge_evaluations(boxes, pd.DataFrame(columns=["item", "split", "class"])).attrs["skipped"] == {ABSENT: absent}
