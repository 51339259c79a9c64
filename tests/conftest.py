"""Shared fixtures: the repository config and tiny synthetic datasets built once per session."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


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
