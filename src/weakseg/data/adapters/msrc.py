"""MSRC-v2 co-segmentation groups (SSNM Sec. 4) in the layout of the released class folders.

A class folder holds MSRC-v2 images ``<N>_<M>_s.bmp`` and their foreground masks
``GroundTruth/<N>_<M>_s.bmp`` (white object on black; a few anti-aliased pixels are
neither 0 nor 255). ``<root>`` is either

* a folder of class folders, ``<root>/<class>/<N>_<M>_s.bmp`` and
  ``<root>/<class>/GroundTruth/<N>_<M>_s.bmp``: one group per class folder; or
* one class folder itself (it has a ``GroundTruth/`` folder), e.g. the ``msrc_cow``
  sample: one group, its class given by ``cls`` or else taken from the folder name.

A class name from a folder is the folder name lowercased with a leading ``msrc_`` removed
(``msrc_cow`` -> ``cow``, ``Cow`` -> ``cow``). Files not named ``<N>_<M>_s.bmp`` are ignored;
images are ordered by (N, M). Items are ``<class>/<stem>`` (e.g. ``cow/5_1_s``), split
``test``, labels ``[class]``, ``has_object`` True, ``box_annotated`` False (no boxes given;
none derived); images are copied byte for byte. Masks are thresholded as in
:func:`weakseg.data.adapters.voc_coseg.binary_mask` (foreground: any colour channel > 127,
i.e. >= 128) and written with ``mask_encoding`` ``binary`` (0 background, 1 foreground).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from weakseg.data.adapters.voc_coseg import add_coseg_item
from weakseg.data.index import DatasetError, DatasetMeta
from weakseg.data.writer import DatasetWriter
from weakseg.progress import progress

IMAGE_NAME = re.compile(r"^(\d+)_(\d+)_s\.bmp$")
GROUND_TRUTH = "GroundTruth"
LAYOUT = f"<root>/<class>/<N>_<M>_s.bmp with <root>/<class>/{GROUND_TRUTH}/<N>_<M>_s.bmp"


def msrc_class_name(folder: str) -> str:
    """The class named by a folder: lowercased, a leading ``msrc_`` removed."""
    lower = folder.lower()
    return lower.removeprefix("msrc_") or lower


def msrc_class_folders(root: Path, cls: str | None = None) -> dict[str, Path]:
    """Class -> class folder: ``root`` itself when it has ``GroundTruth/`` (class ``cls`` or its
    folder name), else every sub-folder of ``root`` (``cls`` must then be None)."""
    if cls is not None and (not cls or "/" in cls):
        raise ValueError(f"cls={cls!r}: expected a non-empty class name without '/'")
    if (root / GROUND_TRUTH).is_dir():
        return {cls or msrc_class_name(root.name): root}
    if cls is not None:
        raise ValueError(f"cls={cls!r} names the class of a single class folder, but {root} has no "
                         f"{GROUND_TRUTH}/ folder; expected {root}/{GROUND_TRUTH}/")
    folders: dict[str, Path] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not (folder / GROUND_TRUTH).is_dir():
            raise DatasetError(f"{folder}: no {GROUND_TRUTH}/ folder; expected {LAYOUT}")
        name = msrc_class_name(folder.name)
        if name in folders:
            raise DatasetError(f"{folder}: class {name!r} again (also {folders[name]})")
        folders[name] = folder
    if not folders:
        raise DatasetError(f"{root}: no class folders; expected {LAYOUT}, or {root}/{GROUND_TRUTH}/")
    return folders


def msrc_images(folder: Path) -> list[Path]:
    """The ``<N>_<M>_s.bmp`` images of a class folder, ordered by (N, M)."""
    images = [p for p in folder.iterdir() if p.is_file() and IMAGE_NAME.match(p.name)]
    if not images:
        raise DatasetError(f"{folder}: no <N>_<M>_s.bmp images; expected {LAYOUT}")
    return sorted(images, key=lambda p: tuple(int(n) for n in IMAGE_NAME.match(p.name).groups()))


def convert_msrc_coseg(root: Path, out: Path, name: str, cls: str | None = None) -> pd.DataFrame:
    """Write the MSRC co-segmentation groups at ``root`` into the canonical dataset ``out``; ``cls``
    names the class when ``root`` is a single class folder (default: from its folder name)."""
    folders = msrc_class_folders(root, cls)
    meta = DatasetMeta(name=name, kind="groups", classes=tuple(folders), mask_encoding="binary",
                       source=f"MSRC-v2 co-segmentation class folders at {root}")
    writer = DatasetWriter(out, meta)
    jobs = [(c, image, folder / GROUND_TRUTH / image.name) for c, folder in folders.items()
            for image in msrc_images(folder)]
    for c, image, mask in progress(jobs, desc="msrc_coseg", unit="img"):
        add_coseg_item(writer, c, image, mask)
    return writer.finalize()
