"""Config entries of real benchmarks (``real_datasets.<name>``): where the official layout is.

An entry names the converter (``format``, a key of :data:`weakseg.data.adapters.ADAPTERS`), the
dataset's ``root`` in that layout, the converter's path options (``paths``) and other options
(``options``), and optionally the official files to ``download``. A root or path is a local
folder (relative to the repository), or ``{download}/<folder>``, a folder of the tree built
from the downloaded files (``<downloads>/<name>/tree``, see :mod:`weakseg.data.download`), or
a list of such candidates: the first local folder that exists wins, else the ``{download}``
one. A user who already has a dataset on disk puts its folder first (or alone) and nothing
is downloaded.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from weakseg.data.adapters import ADAPTERS, adapter_options
from weakseg.data.download import RemoteFile, remote_files

DOWNLOAD = "{download}"


@dataclass(frozen=True)
class RealDataset:
    """A checked ``real_datasets.<name>`` entry; paths resolved (absolute)."""

    name: str
    fmt: str
    root: str
    paths: dict[str, str]
    options: dict[str, Any]
    files: list[RemoteFile] = field(default_factory=list)
    tree: str | None = None

    @property
    def needs_download(self) -> bool:
        """Whether the root or a path lies in the downloaded tree."""
        return self.tree is not None and any(
            p == self.tree or p.startswith(self.tree + os.sep) for p in (self.root, *self.paths.values()))

    def converter_options(self) -> dict[str, Any]:
        """Keyword options of the converter: ``options`` and the resolved ``paths``."""
        return {**self.options, **self.paths}


def download_tree(downloads: str | Path, name: str) -> str:
    """Absolute path of the tree built from dataset ``name``'s downloaded files."""
    return os.path.abspath(os.path.join(downloads, name, "tree"))


def _resolve(value: str | list[str], where: str, basedir: str | Path, tree: str | None) -> str:
    """One path, or the first existing candidate of a list (a ``{download}`` one counts as existing)."""
    if isinstance(value, list):
        if not value:
            raise ValueError(f"config '{where}' is an empty list; give a folder or candidate folders")
        resolved = [_resolve(v, f"{where}[{i}]", basedir, tree) for i, v in enumerate(value)]
        found = [r for v, r in zip(value, resolved, strict=True) if v.startswith(DOWNLOAD) or os.path.exists(r)]
        return found[0] if found else resolved[0]
    if value.startswith(DOWNLOAD):
        if tree is None:
            raise ValueError(f"config '{where}' is {value!r}, but the entry has no 'download' list; give the "
                             f"files to download or a local folder")
        return os.path.normpath(tree + value[len(DOWNLOAD):])
    if DOWNLOAD in value:
        raise ValueError(f"config '{where}' is {value!r}; {DOWNLOAD} may only start a path")
    return os.path.normpath(os.path.join(basedir, value))


def real_dataset(name: str, entry: Mapping[str, Any], basedir: str | Path, downloads: str | Path) -> RealDataset:
    """Check and resolve config ``real_datasets.<name>`` (``entry``); errors name the key."""
    where = f"real_datasets.{name}"
    fmt = entry["format"]
    if fmt not in ADAPTERS:
        raise ValueError(f"config '{where}.format' is {fmt!r}; known formats: {sorted(ADAPTERS)}")
    paths, options = dict(entry.get("paths", {})), dict(entry.get("options", {}))
    accepted = adapter_options(fmt)
    unknown = sorted((set(paths) | set(options)) - set(accepted))
    if unknown:
        raise ValueError(f"config '{where}' gives options {unknown} that format {fmt!r} does not take; "
                         f"it takes {accepted}")
    both = sorted(set(paths) & set(options))
    if both:
        raise ValueError(f"config '{where}' gives {both} in both 'paths' and 'options'")
    files = remote_files(entry["download"], f"{where}.download") if entry.get("download") else []
    tree = download_tree(downloads, name) if files else None
    return RealDataset(
        name=name, fmt=fmt, root=_resolve(entry["root"], f"{where}.root", basedir, tree),
        paths={k: _resolve(v, f"{where}.paths.{k}", basedir, tree) for k, v in paths.items()},
        options=options, files=files, tree=tree,
    )


def real_datasets(config: Mapping[str, Any], basedir: str | Path) -> dict[str, RealDataset]:
    """Every checked entry of config ``real_datasets``, downloads under config ``downloads``."""
    return {name: real_dataset(name, entry, basedir, config["downloads"])
            for name, entry in config["real_datasets"].items()}
