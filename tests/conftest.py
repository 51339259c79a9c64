"""Shared fixtures: the repository config and tiny synthetic datasets built once per session."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "config" / "tiny.yaml"


def snakemake_cmd(*args: str) -> list[str]:
    """The Snakemake CLI on this repository with the tiny config (given last: it takes every
    following word as a config file)."""
    return [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--cores", "2", *args,
            "--configfile", str(TINY)]


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(snakemake_cmd(*args), cwd=workdir, capture_output=True, text=True, timeout=900)


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


@pytest.fixture(scope="module")
def one_torch_thread():
    """One intra-op torch thread for a test module of tiny tensors: fastest, and immune to a busy machine's
    oversubscription (use with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def repo_config() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text())


@pytest.fixture(scope="session")
def tiny_config(repo_config: dict) -> dict:
    """config.yaml with tests/config/tiny.yaml merged over it (what the e2e run uses)."""
    return _merge(repo_config, yaml.safe_load((REPO / "tests/config/tiny.yaml").read_text()))


@pytest.fixture(scope="session")
def tiny_datasets(tiny_config: dict, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every synthetic dataset of the tiny config, generated once: name -> root."""
    from weakseg.data.synthetic import generate

    base = tmp_path_factory.mktemp("data")
    roots = {}
    for name in tiny_config["synthetic"]["datasets"]:
        generate(name, tiny_config["synthetic"], base / name)
        roots[name] = base / name
    return roots


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The real benchmark samples (../shared/realdata or $WEAKSEG_REALDATA); skip when absent."""
    root = Path(os.environ.get("WEAKSEG_REALDATA", REPO.parent / "shared" / "realdata"))
    if not root.is_dir():
        pytest.skip(f"real data samples not found at {root} (set WEAKSEG_REALDATA)")
    return root


@pytest.fixture(scope="session")
def pascal07(realdata: Path):
    """``load(groups, per_group)`` -> [(RGB image, (N,4) boxes of the group's class)] from the
    real PASCAL07-6x2 sample; VOC's 1-based inclusive corners become continuous corners."""
    import cv2
    import numpy as np

    voc = realdata / "pascal07_6x2" / "VOCdevkit" / "VOC2007"

    def load(groups: list[str], per_group: int) -> list[tuple[np.ndarray, np.ndarray]]:
        out = []
        for group in groups:
            cls = group.rsplit("_", 1)[0]
            for image_id in (voc / "ImageSets" / "Main" / f"6x2_{group}.txt").read_text().split()[:per_group]:
                objects = ET.parse(voc / "Annotations" / f"{image_id}.xml").findall("object")
                boxes = np.array([[float(o.find(f"bndbox/{k}").text) for k in ("xmin", "ymin", "xmax", "ymax")]
                                  for o in objects if o.find("name").text == cls])
                boxes[:, :2] -= 1
                image = cv2.cvtColor(cv2.imread(str(voc / "JPEGImages" / f"{image_id}.jpg")), cv2.COLOR_BGR2RGB)
                out.append((image, boxes))
        return out

    return load


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`snakemake tables` once on the tiny profile (data, preprocessing, FC, tables)."""
    workdir = tmp_path_factory.mktemp("tiny_run")
    run = snakemake(workdir, "tables")
    assert run.returncode == 0, run.stderr[-3000:]
    return workdir
