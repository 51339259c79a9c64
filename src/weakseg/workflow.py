"""Glue between Snakemake and the library: which files a target needs, checks that fail
before any job runs, and logging for the thin scripts.

Everything here is plain Python (no Snakemake import), so it is unit-tested directly.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from weakseg.methods import implemented
from weakseg.tables.specs import PAPERS, load_paper

MAIN_DEPENDENCIES: tuple[str, ...] = ("numpy", "pandas", "torch", "scikit-image", "opencv-contrib-python-headless",
                                      "cvxpy", "snakemake")


class ConfigError(ValueError):
    """The configuration asks for something that does not exist; the message names the key."""


def check_enabled_methods(enabled: Sequence[str]) -> tuple[str, ...]:
    """``methods.enabled`` as a tuple, after checking each method exists and is implemented."""
    done = implemented()
    for paper in enabled:
        if paper not in PAPERS:
            raise ConfigError(f"config 'methods.enabled' names unknown method {paper!r}; methods: {list(PAPERS)}")
        if paper not in done:
            issue = load_paper(paper).issue
            raise ConfigError(f"config 'methods.enabled' names {paper!r}, whose method is not implemented yet "
                              f"(issue #{issue}); implemented: {list(done) or 'none'}")
    return tuple(enabled)


def backbone_keys(config: dict[str, Any]) -> dict[str, str]:
    """Every config key that names a backbone (``<section>.network.backbone``, CoLo-CAM's
    ``colocam.classifier.backbone``, a variant's or a
    preprocessing product's ``backbone``) -> the name it gives."""
    keys = {f"preprocess.products.{name}.backbone": cfg["backbone"]
            for name, cfg in config.get("preprocess", {}).get("products", {}).items() if "backbone" in cfg}
    for section, net in (("mcnn", "network"), ("ssnm", "network"), ("mil", "network"), ("colocam", "classifier")):
        if section in config:
            keys[f"{section}.{net}.backbone"] = config[section][net]["backbone"]
            keys.update({f"{section}.variants.{name}.backbone": v["backbone"]
                         for name, v in config[section].get("variants", {}).items() if "backbone" in v})
    return keys


def check_backbones(config: dict[str, Any]) -> None:
    """Every backbone the configuration names is in the registry (before any job runs)."""
    from weakseg.features.registry import BACKBONES

    for key, name in backbone_keys(config).items():
        if name not in BACKBONES:
            raise ConfigError(f"config '{key}' is {name!r}, not a registered backbone; known: {sorted(BACKBONES)}")


def table_spec(paper: str, table: str, enabled: Sequence[str]):
    """The spec of table ``paper``/``table``, or a clear error if it cannot be built."""
    if paper not in PAPERS:
        raise ConfigError(f"no paper {paper!r}; papers: {list(PAPERS)}")
    spec = load_paper(paper)
    if table not in spec.tables:
        raise ConfigError(f"paper {paper!r} has no table {table!r}; tables: {sorted(spec.tables)}")
    if paper not in implemented():
        raise ConfigError(f"table {paper}/{table} needs the {paper} method, which is not implemented yet "
                          f"(issue #{spec.issue}); no table is faked")
    if paper not in enabled:
        raise ConfigError(f"table {paper}/{table} needs method {paper!r}; add it to config 'methods.enabled'")
    return spec.tables[table]


def eval_path(results: str, paper: str, dataset: str, variant: str) -> str:
    """Per-item evaluation of ``variant`` of ``paper`` on ``dataset``."""
    return f"{results}/eval/{paper}/{dataset}/{variant}.parquet"


def config_hash(config: dict[str, Any]) -> str:
    """sha256 of the canonical (key-sorted) JSON of ``config``, written beside every table."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()


def versions() -> dict[str, str]:
    """Installed versions of the main dependencies (``-`` where not installed)."""
    out = {}
    for name in MAIN_DEPENDENCIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "-"
    return out


@contextmanager
def logged(log_path: str | Path, job: str) -> Iterator[logging.Logger]:
    """Send stdout, stderr (progress bars) and logging of a job to ``log_path``; end with
    a one-line summary (``<job>: done in N s`` or ``<job>: FAILED after N s``)."""
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    start = time.time()
    with open(log_path, "w", buffering=1) as fh:
        old = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = fh
        handler = logging.StreamHandler(fh)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        logger = logging.getLogger(job)
        try:
            yield logger
        except BaseException:
            logger.exception("FAILED after %.1f s", time.time() - start)
            raise
        else:
            logger.info("done in %.1f s", time.time() - start)
        finally:
            root.removeHandler(handler)
            sys.stdout, sys.stderr = old


def nvidia_gpu_visible() -> bool:
    """Whether this host shows the jobs an NVIDIA GPU (a ``/dev/nvidia<N>`` device, not hidden by an empty
    or ``-1`` ``CUDA_VISIBLE_DEVICES``), without importing torch (the workflow asks at every start)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return False
    return any(re.fullmatch(r"nvidia\d+", name) for name in os.listdir("/dev")) if os.path.isdir("/dev") else False
