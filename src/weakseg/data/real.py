"""Config entries of real benchmarks (``real_datasets.<name>``): where the official layout is.

An entry names the converter (``format``, a key of :data:`weakseg.data.adapters.ADAPTERS`), the
dataset's ``root`` in that layout, the converter's path options (``paths``) and other options
(``options``), and optionally the official files to ``download``. A root or path is a local
folder (relative to the repository), or ``{download}/<folder>``, a folder of the tree built
from the downloaded files (``<downloads>/<name>/tree``, see :mod:`weakseg.data.download`;
``{download:<other>}`` names another entry's tree, so two datasets share one download), or
a list of such candidates: the first local folder that exists wins, else the ``{download}``
one. A user who already has a dataset on disk puts its folder first (or alone) and nothing
is downloaded.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from weakseg.data.adapters import ADAPTERS, adapter_options
from weakseg.data.download import RemoteFile, remote_files

DOWNLOAD = re.compile(r"^\{download(?::([A-Za-z0-9_.-]+))?\}")
"""``{download}`` (this dataset's tree) or ``{download:<name>}`` (dataset ``<name>``'s tree) at a path's start."""


@dataclass(frozen=True)
class RealDataset:
    """A checked ``real_datasets.<name>`` entry; paths resolved (local ones absolute, downloaded ones under
    config ``downloads``).

    ``files`` are this entry's own downloads (unpacked into ``<downloads>/<name>/tree``); ``trees``
    the downloaded trees its root and paths lie in (its own or other entries'), to build first.
    """

    name: str
    fmt: str
    root: str
    paths: dict[str, str]
    options: dict[str, Any]
    files: list[RemoteFile] = field(default_factory=list)
    trees: tuple[str, ...] = ()

    @property
    def needs_download(self) -> bool:
        """Whether the root or a path lies in a downloaded tree."""
        return bool(self.trees)

    def converter_options(self) -> dict[str, Any]:
        """Keyword options of the converter: ``options`` and the resolved ``paths``."""
        return {**self.options, **self.paths}


def download_tree(downloads: str | Path, name: str) -> str:
    """The tree built from dataset ``name``'s downloaded files (relative to the working directory when
    ``downloads`` is, like the download rules' outputs)."""
    return os.path.normpath(os.path.join(downloads, name, "tree"))


@dataclass(frozen=True)
class _Context:
    name: str
    basedir: str | Path
    downloads: str | Path
    downloadable: frozenset[str]


def _resolve(value: str | list[str], where: str, ctx: _Context) -> tuple[str, str | None]:
    """(path, the downloaded tree it lies in or None): one path, or the first existing candidate of a
    list (a ``{download}`` one counts as existing)."""
    if isinstance(value, list):
        if not value:
            raise ValueError(f"config '{where}' is an empty list; give a folder or candidate folders")
        resolved = [_resolve(v, f"{where}[{i}]", ctx) for i, v in enumerate(value)]
        found = [r for r in resolved if r[1] is not None or os.path.exists(r[0])]
        return found[0] if found else resolved[0]
    match = DOWNLOAD.match(value)
    if match:
        owner = match.group(1) or ctx.name
        if owner not in ctx.downloadable:
            raise ValueError(f"config '{where}' is {value!r}, but real_datasets.{owner} has no 'download' list; "
                             f"give the files to download or a local folder")
        tree = download_tree(ctx.downloads, owner)
        return os.path.normpath(tree + value[match.end():]), tree
    if "{download" in value:
        raise ValueError(f"config '{where}' is {value!r}; {{download}} may only start a path")
    return os.path.normpath(os.path.join(ctx.basedir, value)), None


def real_dataset(name: str, entry: Mapping[str, Any], basedir: str | Path, downloads: str | Path,
                 downloadable: frozenset[str] | None = None) -> RealDataset:
    """Check and resolve config ``real_datasets.<name>`` (``entry``); errors name the key.

    ``downloadable``: the entries with a ``download`` list (for ``{download:<name>}``; default: this
    one if it has one).
    """
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
    if downloadable is None:
        downloadable = frozenset([name] if files else [])
    ctx = _Context(name, basedir, downloads, downloadable)
    root, root_tree = _resolve(entry["root"], f"{where}.root", ctx)
    resolved = {k: _resolve(v, f"{where}.paths.{k}", ctx) for k, v in paths.items()}
    trees = sorted({t for t in (root_tree, *(t for _, t in resolved.values())) if t is not None})
    return RealDataset(name=name, fmt=fmt, root=root, paths={k: p for k, (p, _) in resolved.items()},
                       options=options, files=files, trees=tuple(trees))


def real_datasets(config: Mapping[str, Any], basedir: str | Path) -> dict[str, RealDataset]:
    """Every checked entry of config ``real_datasets``, downloads under config ``downloads``."""
    entries = config["real_datasets"]
    downloadable = frozenset(name for name, entry in entries.items() if entry.get("download"))
    return {name: real_dataset(name, entry, basedir, config["downloads"], downloadable)
            for name, entry in entries.items()}
