"""Real-dataset config entries (weakseg.data.real) and the download -> unpack -> convert rules."""

from __future__ import annotations

import hashlib
import subprocess
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import snakemake_cmd

from weakseg.data.real import real_dataset, real_datasets

COSEG = {"format": "voc_coseg", "root": "{download}/coseg",
         "download": [{"url": "http://example.org/coseg.zip"}]}


def test_roots_in_the_download_tree_and_local_roots_are_resolved(tmp_path):
    real = real_dataset("x", COSEG, basedir=tmp_path / "repo", downloads="dl")
    assert real.trees == ("dl/x/tree",)
    assert real.root == "dl/x/tree/coseg" and real.needs_download
    local = real_dataset("x", {**COSEG, "root": "../data/coseg"}, basedir=tmp_path / "repo", downloads="dl")
    assert local.root == str(tmp_path / "data" / "coseg") and not local.needs_download


def test_the_first_existing_candidate_wins_else_the_download(tmp_path):
    (tmp_path / "mine").mkdir()
    entry = {**COSEG, "root": ["nowhere", "mine", "{download}/coseg"]}
    assert real_dataset("x", entry, basedir=tmp_path, downloads="dl").root == str(tmp_path / "mine")
    entry = {**COSEG, "root": ["nowhere", "{download}/coseg", "mine"]}
    real = real_dataset("x", entry, basedir=tmp_path, downloads="dl")
    assert real.root == "dl/x/tree/coseg" and real.needs_download
    entry = {"format": "voc_coseg", "root": ["nowhere", "neither"]}
    assert real_dataset("x", entry, basedir=tmp_path, downloads="dl").root == str(tmp_path / "nowhere")


def test_an_entry_can_use_another_entrys_download(tmp_path):
    config = {"downloads": "dl", "real_datasets": {
        "voc": {"format": "voc_seg", "root": "{download}/VOC2012", "download": [{"url": "http://h/voc.tar"}]},
        "aug": {"format": "voc_seg", "root": "{download:voc}/VOC2012", "paths": {"sbd": "{download}/sbd"},
                "download": [{"url": "http://h/benchmark.tgz"}]}}}
    reals = real_datasets(config, basedir=tmp_path)
    aug = reals["aug"]
    assert aug.root == "dl/voc/tree/VOC2012"
    assert aug.paths["sbd"] == "dl/aug/tree/sbd"
    assert aug.trees == ("dl/aug/tree", "dl/voc/tree")
    assert [f.name for f in aug.files] == ["benchmark.tgz"]


def test_paths_and_options_reach_the_converter(tmp_path):
    entry = {"format": "yto_v1", "root": "frames", "paths": {"splits": "{download}/folds"},
             "download": [{"url": "http://example.org/folds.tar.gz"}]}
    real = real_dataset("y", entry, basedir=tmp_path, downloads=tmp_path / "dl")
    assert real.converter_options() == {"splits": str(tmp_path / "dl" / "y" / "tree" / "folds")}  # downloads absolute
    assert real.needs_download  # a path in the tree is enough


@pytest.mark.parametrize(("entry", "message"), [
    ({**COSEG, "format": "voc99"}, r"'real_datasets.x.format' is 'voc99'; known formats"),
    ({"format": "voc_coseg", "root": "{download}/coseg"}, r"'real_datasets.x.root' .* real_datasets.x has no 'download'"),
    ({**COSEG, "root": "{download:voc}/coseg"}, r"'real_datasets.x.root' .* real_datasets.voc has no 'download'"),
    ({**COSEG, "root": "data/{download}"}, "may only start a path"),
    ({**COSEG, "options": {"colour": 1}}, r"gives options \['colour'\] that format 'voc_coseg' does not take"),
    ({**COSEG, "download": [{"url": "http://h/a.zip", "md5": "0" * 32, "sha256": "0" * 64}]}, "give one digest"),
])
def test_bad_entries_name_the_key(tmp_path, entry, message):
    with pytest.raises(ValueError, match=message):
        real_dataset("x", entry, basedir=tmp_path, downloads=tmp_path)


def test_every_entry_of_the_repository_config_is_valid(repo_config, tmp_path):
    reals = real_datasets(repo_config, basedir=tmp_path)
    assert set(reals) == set(repo_config["real_datasets"])


def _coseg_zip(path: Path) -> None:
    """The released voc_coseg layout (images/<Folder>/, masks/<Folder>/) under coseg/, zipped."""
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(path, "w") as z:
        for folder in ("Cow", "Aero"):
            for k in (1, 2):
                image = rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)
                mask = np.zeros((12, 16, 3), np.uint8)
                mask[2:8, 3:9] = 255
                z.writestr(f"coseg/images/{folder}/img_{k:04d}.jpg", cv2.imencode(".jpg", image)[1].tobytes())
                z.writestr(f"coseg/masks/{folder}/img_{k:04d}.png", cv2.imencode(".png", mask)[1].tobytes())


def _config(tmp_path: Path, sha256: str) -> Path:
    archive = tmp_path / "mirror" / "coseg.zip"
    extra = {"downloads": str(tmp_path / "downloads"),
             "real_datasets": {"dl_coseg": {**COSEG, "download": [{"url": archive.as_uri(), "sha256": sha256}]}}}
    path = tmp_path / "extra.yaml"
    path.write_text(yaml.safe_dump(extra))
    return path


def _run_data_target(tmp_path: Path, sha256: str) -> subprocess.CompletedProcess:
    extra = _config(tmp_path, sha256)  # config files follow the tiny one
    return subprocess.run([*snakemake_cmd("data_dl_coseg"), str(extra)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)


def test_data_target_downloads_verifies_unpacks_and_converts(tmp_path):
    (tmp_path / "mirror").mkdir()
    _coseg_zip(tmp_path / "mirror" / "coseg.zip")
    sha = hashlib.sha256((tmp_path / "mirror" / "coseg.zip").read_bytes()).hexdigest()
    run = _run_data_target(tmp_path, sha)
    assert run.returncode == 0, run.stderr[-3000:]
    assert (tmp_path / "downloads/dl_coseg/files/coseg.zip.sha256").read_text().startswith(sha)
    index = pd.read_parquet(tmp_path / "results/synthetic/data/dl_coseg/index.parquet")
    assert sorted(index["item"]) == ["aeroplane/img_0001", "aeroplane/img_0002", "cow/img_0001", "cow/img_0002"]
    assert (tmp_path / "results/synthetic/tables/data/previews/dl_coseg.png").is_file()


def test_a_checksum_mismatch_stops_naming_file_and_digests(tmp_path):
    (tmp_path / "mirror").mkdir()
    _coseg_zip(tmp_path / "mirror" / "coseg.zip")
    actual = hashlib.sha256((tmp_path / "mirror" / "coseg.zip").read_bytes()).hexdigest()
    run = _run_data_target(tmp_path, "0" * 64)
    assert run.returncode != 0
    log = (tmp_path / "downloads/dl_coseg/logs/coseg.zip.log").read_text()
    assert f"coseg.zip: sha256 mismatch: expected {'0' * 64}, got {actual}" in log
    assert not (tmp_path / "downloads/dl_coseg/files/coseg.zip").exists()
    assert not (tmp_path / "results/synthetic/data/dl_coseg").exists()
