"""The CMU-Cornell iCoseg dataset (Batra et al., CVPR 2010) in its released layout.

``CMU_Cornell_iCoseg_dataset.zip`` unpacks to ``dataset_public/images/<Folder>/<id>.jpg`` with
``dataset_public/ground_truth/<Folder>/<id>.png`` (38 groups, 643 images; layout as read by the
TensorFlow-Datasets style ``icoseg`` builder and by ``load_iCoseg.m`` of public code, e.g.
``images/021 Elephants-safari June 2008-timd2000/``; image ids are Flickr ids such as
``2909969005_2a0d4538d6``). ``<root>`` is the unpacked folder holding ``dataset_public/``, or
``dataset_public/`` itself. Only ``.jpg`` files are images (the release also holds
``Thumbs.db`` files).

Groups: ``groups=None`` converts every folder, named by :func:`group_name` (the folder name
lowercased, runs of other characters than letters and digits turned into ``_``, e.g.
``021_elephants_safari_june_2008_timd2000``). ``groups`` maps a group name to its official
folder, to convert a subset under the names a paper uses: SSNM Table 3 (after Rubinstein et al.
2013 and Faktor & Irani 2013) uses 8 groups, ``bear2, brownbear, cheetah, elephant, helicopter,
hotballoon, panda1, panda2``; no public source was found that maps these names to the release's
folder names, so that mapping belongs in config (``real_datasets.<name>.groups``), checked
against the folders on disk here (an unknown folder raises :class:`DatasetError`).

Every group is its own class (SSNM reports one column per group, e.g. ``panda1`` and
``panda2``); items ``<group>/<id>``, split ``test``, labels ``[group]``, ``has_object`` True,
no boxes; images are copied byte for byte. Masks: the released ground truth is one
single-channel PNG per image (the ``icoseg`` builder declares shape ``(None, None, 1)``; a
public loader binarises it with PIL's ``convert('1')``, i.e. at 128, so the object is stored
as 255), thresholded as in :func:`weakseg.data.adapters.voc_coseg.binary_mask` (any channel >
127) and written with ``mask_encoding`` ``binary`` (0 background, 1 foreground, no void).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from weakseg.data.adapters.voc_coseg import add_coseg_item
from weakseg.data.index import DatasetError, DatasetMeta
from weakseg.data.writer import DatasetWriter
from weakseg.progress import progress

LAYOUT = "dataset_public/images/<Folder>/<id>.jpg with dataset_public/ground_truth/<Folder>/<id>.png"


def group_name(folder: str) -> str:
    """The group name of an official folder: lowercased, non-alphanumeric runs -> ``_``."""
    return re.sub(r"[^a-z0-9]+", "_", folder.lower()).strip("_")


def icoseg_groups(images: Path, groups: dict[str, str] | None) -> dict[str, Path]:
    """Group name -> image folder under ``images``: every folder (``groups`` None) or those of ``groups``."""
    folders = sorted(p for p in images.iterdir() if p.is_dir() and not p.name.startswith("."))
    if groups is None:
        named: dict[str, Path] = {}
        for folder in folders:
            group = group_name(folder.name)
            if not group or group in named:
                raise DatasetError(f"{folder}: folder name gives group {group!r}, already used by {named.get(group)}; "
                                   f"name the groups in the 'groups' option instead")
            named[group] = folder
        return named
    for group in groups:
        if not group or "/" in group:
            raise ValueError(f"groups: {group!r} is not a group name (non-empty, without '/')")
    known = {p.name: p for p in folders}
    missing = sorted(folder for folder in groups.values() if folder not in known)
    if missing:
        raise DatasetError(f"{images / missing[0]}: folder not found; the 'groups' option names folders "
                           f"{missing}, the release has {sorted(known)}")
    return {group: known[folder] for group, folder in groups.items()}


def convert_icoseg(root: Path, out: Path, name: str, groups: dict[str, str] | None = None) -> pd.DataFrame:
    """Write iCoseg at ``root`` into the canonical dataset ``out``: every group, or the groups of
    ``groups`` (group name -> official folder name)."""
    base = root / "dataset_public" if (root / "dataset_public").is_dir() else root
    images, truth = base / "images", base / "ground_truth"
    for folder in (images, truth):
        if not folder.is_dir():
            raise DatasetError(f"{folder}: not found; expected {LAYOUT}")
    named = icoseg_groups(images, groups)
    if not named:
        raise DatasetError(f"{images}: no group folders; expected {LAYOUT}")
    jobs = []
    for group, folder in named.items():
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".jpg")
        if not files:
            raise DatasetError(f"{folder}: no .jpg images; expected {LAYOUT}")
        jobs += [(group, image, truth / folder.name / f"{image.stem}.png") for image in files]
    meta = DatasetMeta(name=name, kind="groups", classes=tuple(named), mask_encoding="binary",
                       source=f"CMU-Cornell iCoseg (Batra et al. 2010) dataset_public/ at {root}")
    writer = DatasetWriter(out, meta)
    for group, image, mask in progress(jobs, desc="icoseg", unit="img"):
        add_coseg_item(writer, group, image, mask)
    return writer.finalize()
