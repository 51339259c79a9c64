"""Download the official files of a real benchmark: resumable, verified, atomic.

A real dataset's config entry (``real_datasets.<name>.download``) lists its files; each is a
:class:`RemoteFile` (URL, file name, published digest, size, whether it is an archive).

* :func:`fetch` downloads one file to ``<dest>.part``, resuming from the bytes already
  there (HTTP ``Range``), checks the size and the digest, and only then renames it to
  ``dest``: the output path never holds a partial or unverified file. A digest mismatch
  raises :class:`ChecksumError` naming the file, the expected and the actual digest (the
  bad file is kept as ``<dest>.bad`` for inspection, so the next run starts afresh).
  A file without a published digest is accepted, its sha256 written beside it
  (``<dest>.sha256``) and logged, so a user can pin it in config.
* :func:`extract_all` unpacks the archives (tar, tar.gz, tgz, zip) and copies the plain
  files into one tree, built under ``<tree>.partial`` and renamed into place when done.

``file://`` URLs work too (local mirrors, tests).
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import shutil
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlparse

from weakseg.progress import progress, progress_bar

log = logging.getLogger(__name__)

ARCHIVE_SUFFIXES: tuple[str, ...] = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".zip")
DIGESTS: tuple[str, ...] = ("sha256", "md5")
CHUNK = 1 << 20


class ChecksumError(ValueError):
    """A downloaded file's size or digest differs from the published one."""


@dataclass(frozen=True)
class RemoteFile:
    """One official file of a dataset.

    ``digest`` is ``(algorithm, hex)`` with algorithm ``sha256`` or ``md5`` (the one the
    dataset's publisher or a public mirror states), or None when none is published.
    ``into`` is the folder of the dataset tree the file is extracted (archive) or copied
    (plain file, under the last part of its URL's path) into; ``name`` is its unique name
    among the dataset's downloaded files.
    """

    url: str
    name: str
    digest: tuple[str, str] | None
    size: int | None
    extract: bool
    into: str


def is_archive(name: str) -> bool:
    """Whether ``name`` ends with one of :data:`ARCHIVE_SUFFIXES`."""
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def remote_files(entry: Sequence[Mapping[str, Any]], where: str) -> list[RemoteFile]:
    """The files of config ``real_datasets.<name>.download`` (``where`` names it in errors).

    Each item: ``url``; optional ``name`` (default: the URL's last path part), ``sha256`` or
    ``md5``, ``size`` (bytes), ``extract`` (default: whether the name is an archive) and
    ``into`` (default: the tree's top).
    """
    files = []
    for i, item in enumerate(entry):
        url = str(item["url"])
        name = str(item.get("name") or PurePosixPath(urlparse(url).path).name)
        if not name or "/" in name or name in (".", ".."):
            raise ValueError(f"config '{where}[{i}]': cannot name the file of url {url!r}; give 'name'")
        given = [a for a in DIGESTS if item.get(a)]
        if len(given) > 1:
            raise ValueError(f"config '{where}[{i}]' ({name}) gives {given}; give one digest")
        digest = (given[0], str(item[given[0]]).lower()) if given else None
        into = str(item.get("into", ""))
        if into.startswith("/") or ".." in PurePosixPath(into).parts:
            raise ValueError(f"config '{where}[{i}]'.into is {into!r}; expected a relative folder inside the tree")
        size = item.get("size")
        files.append(RemoteFile(url=url, name=name, digest=digest, size=None if size is None else int(size),
                                extract=bool(item.get("extract", is_archive(name))), into=into))
    names = [f.name for f in files]
    if len(set(names)) != len(names):
        raise ValueError(f"config '{where}' names a file twice: {names}")
    return files


def file_digest(path: Path, algorithm: str) -> str:
    """Hex digest of the file at ``path`` (``sha256`` or ``md5``)."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _open(url: str, start: int, timeout: float) -> tuple[Any, int | None, bool]:
    """Open ``url`` from byte ``start``; returns (stream, total size or None, resumed)."""
    request = urllib.request.Request(url, headers={"User-Agent": "weakseg"})
    if start and urlparse(url).scheme in ("http", "https"):
        request.add_header("Range", f"bytes={start}-")
    response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (URLs come from config)
    resumed = getattr(response, "status", 200) == 206
    length = response.headers.get("Content-Length")
    total = None if length is None else int(length) + (start if resumed else 0)
    return response, total, resumed


def _download(remote: RemoteFile, part: Path, timeout: float) -> None:
    """Append the rest of ``remote`` to ``part`` (restarting when the server cannot resume)."""
    start = part.stat().st_size if part.exists() else 0
    if remote.size is not None and start == remote.size:
        return
    if remote.size is not None and start > remote.size:
        start = 0
    try:
        response, total, resumed = _open(remote.url, start, timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and start:  # range not satisfiable: the part already holds every byte
            return
        raise ConnectionError(f"{remote.url}: HTTP {err.code} {err.reason} (downloading {remote.name})") from err
    except urllib.error.URLError as err:
        raise ConnectionError(f"{remote.url}: cannot download {remote.name} ({err.reason}); check the URL "
                              f"and the network, or put the file at the download path yourself") from err
    if start and not resumed:
        log.info("%s: the server does not resume; downloading from the start", remote.url)
        start = 0
    total = total or remote.size
    with response, open(part, "ab" if start else "wb") as out, \
            progress_bar(total=total, initial=start, desc=remote.name, unit="B", unit_scale=True) as bar:
        for block in iter(lambda: response.read(CHUNK), b""):
            out.write(block)
            bar.update(len(block))
    received = part.stat().st_size
    if total is not None and received < total:  # the connection closed early
        raise http.client.IncompleteRead(b"", total - received)


def fetch(remote: RemoteFile, dest: str | os.PathLike[str], timeout: float = 60.0, attempts: int = 3) -> str:
    """Download ``remote`` to ``dest`` (resuming ``<dest>.part``), verify, rename into place.

    A transfer cut by the network is resumed up to ``attempts`` times. Returns the sha256 of
    the file. Raises :class:`ChecksumError` when the size or the digest differs from the
    published one (the file is moved to ``<dest>.bad``), ConnectionError naming the URL when
    it cannot be read.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    for attempt in range(1, attempts + 1):
        try:
            _download(remote, part, timeout)
            break
        except (TimeoutError, ConnectionResetError, http.client.IncompleteRead) as err:
            if attempt == attempts:
                raise ConnectionError(f"{remote.url}: transfer of {remote.name} failed {attempts} times "
                                      f"({err}); rerun to resume from {part}") from err
            log.warning("%s: transfer cut (%s); resuming (attempt %d of %d)", remote.name, err, attempt + 1, attempts)
            time.sleep(2.0 * attempt)
    bad = dest.with_name(dest.name + ".bad")
    actual_size = part.stat().st_size
    if remote.size is not None and actual_size != remote.size:
        part.replace(bad)
        raise ChecksumError(f"{dest}: size mismatch: expected {remote.size} bytes, got {actual_size} "
                            f"(from {remote.url}); kept as {bad} for inspection; rerun to download again")
    sha256 = file_digest(part, "sha256")
    if remote.digest is not None:
        algorithm, expected = remote.digest
        actual = sha256 if algorithm == "sha256" else file_digest(part, algorithm)
        if actual != expected:
            part.replace(bad)
            raise ChecksumError(f"{dest}: {algorithm} mismatch: expected {expected}, got {actual} "
                                f"(from {remote.url}); kept as {bad} for inspection; rerun to download again")
    else:
        log.warning("%s: no published checksum to verify against; its sha256 is %s (pin it in config)",
                    remote.name, sha256)
    record = dest.with_name(dest.name + ".sha256")
    record.write_text(f"{sha256}  {remote.name}\n")
    part.replace(dest)
    return sha256


def _extract_archive(archive: Path, target: Path) -> None:
    """Unpack one archive into ``target``; members may not leave it (tar 'data' filter, zip check)."""
    if archive.name.lower().endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            root = target.resolve()
            for member in z.namelist():
                if not (target / member).resolve().is_relative_to(root):
                    raise ValueError(f"{archive}: member {member!r} would be written outside {target}")
            z.extractall(target)
        return
    with tarfile.open(archive) as t:
        t.extractall(target, filter="data")


def extract_all(files: Sequence[tuple[Path, RemoteFile]], tree: str | os.PathLike[str]) -> None:
    """Build ``tree``: each archive unpacked, each plain file copied, into its ``into`` folder.

    Works in ``<tree>.partial`` and renames it to ``tree`` at the end (an old tree is replaced).
    """
    tree = Path(tree)
    partial = tree.with_name(tree.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    for path, remote in progress(files, desc=f"extract {tree.parent.name}", unit="file"):
        target = partial / remote.into
        target.mkdir(parents=True, exist_ok=True)
        if remote.extract:
            try:
                _extract_archive(path, target)
            except (tarfile.TarError, zipfile.BadZipFile, EOFError) as err:
                raise ValueError(f"{path}: not a readable archive ({err}); delete it and rerun") from err
        else:
            shutil.copyfile(path, target / PurePosixPath(urlparse(remote.url).path).name)
    if tree.exists():
        shutil.rmtree(tree)
    partial.rename(tree)

