"""The ImageNet classification subset of Pinheiro & Collobert (CVPR 2015, Sec. 4.1), from ILSVRC-2012.

Sec. 4.1 builds "a large classification training set from the Imagenet dataset containing images
of each of the twenty classes" (every sub-class below each PASCAL VOC class in the ImageNet tree,
~700,000 images) "and also an extra class labeled as background" (~60,000 images "not containing
any of the twenty classes"). Here the ImageNet tree is ILSVRC-2012 (ImageNet-1k): the synsets of
each VOC class and the synsets never used as background are the data file
``weakseg/data/imagenet_voc_synsets.yaml`` (its header says how it was made); every other
ILSVRC-2012 synset is a background synset. ImageNet-1k holds at most 243 x 1300 = 315,900
object images by this mapping (732 to 1300 train images per synset, ILSVRC2015 devkit readme
Sec. 1.4), fewer than the paper's ~700,000 from the full tree.

Layout (``<root>``, the user's extracted ILSVRC-2012 copy):

* ``<root>/train/<wnid>/<wnid>_<n>.JPEG``: ``ILSVRC2012_img_train.tar`` holds one tar per
  synset, each extracted into its folder (ILSVRC2015 devkit readme, Sec. 3.2.1); all 1000
  synset folders must be there, each with at least one image;
* optionally ``<root>/val/<wnid>/*.JPEG``: the 50,000 validation images sorted into synset
  folders (the official archive is flat; the devkit's ground truth sorts them). Read with
  ``val=True``.

Selection, deterministic for a given ``seed`` (files are listed in sorted order, and each draw
has its own generator, so changing one count leaves the other draws as they were):

* object images: every image of a class's synsets, or, with ``max_per_class``, that many drawn
  uniformly without replacement from them;
* background: ``background`` images drawn uniformly without replacement from the images of all
  background synsets (all of them when there are fewer);
* ``val``: every object image of ``val/``, and background images drawn at the train split's
  rate (``background`` / train background pool, rounded).

Rows (kind ``classification``, mask_encoding ``none``, classes the 20 VOC classes): item
``<split>/<wnid>/<file stem>``, labels and class ``[voc class]`` / ``background``, group None,
``has_object`` = not background, no boxes (``box_annotated`` False), no mask. Images are copied
byte for byte, in class order then background, each part in file order.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from weakseg.data.adapters.voc_coseg import VOC_CLASSES
from weakseg.data.index import DatasetError, DatasetMeta
from weakseg.data.writer import DatasetWriter
from weakseg.progress import progress

SYNSET_FILE = "imagenet_voc_synsets.yaml"
BACKGROUND = "background"
TRAIN_FILE = re.compile(r"^(?P<wnid>n\d{8})_\d+\.JPEG$")
"""ILSVRC-2012 train image names, ``<wnid>_<n>.JPEG``."""
VAL_FILE = re.compile(r"^ILSVRC2012_val_\d{8}\.JPEG$")


@cache
def voc_synsets() -> tuple[dict[str, str], frozenset[str]]:
    """(wnid -> VOC class for the object synsets, wnids never drawn as background), from
    ``weakseg/data/imagenet_voc_synsets.yaml``."""
    raw = yaml.safe_load((resources.files("weakseg.data") / SYNSET_FILE).read_text())
    classes = {wnid: cls for cls, entry in raw["classes"].items() for wnid in entry["synsets"]}
    return classes, frozenset(raw["not_background"]["synsets"])


@cache
def ilsvrc2012_synsets() -> tuple[str, ...]:
    """The 1000 ILSVRC-2012 wnids (timm's ImageNet-1k class list)."""
    from timm.data import ImageNetInfo

    return tuple(ImageNetInfo().label_names())


def synset_images(split_dir: Path, pattern: re.Pattern[str], need_all: bool) -> dict[str, list[Path]]:
    """wnid -> image files (sorted) of the synset folders of ``split_dir``.

    Every folder must be an ILSVRC-2012 wnid holding at least one file, every file must match
    ``pattern`` (a train file also names its own folder's wnid); ``need_all``: all 1000 synset
    folders must be there. Anything else raises :class:`DatasetError` naming the folder or file.
    """
    if not split_dir.is_dir():
        raise DatasetError(f"{split_dir}: not found; expected {split_dir.name}/<wnid>/ folders of ILSVRC-2012 "
                           f"images (e.g. train/n01440764/n01440764_10026.JPEG)")
    known = set(ilsvrc2012_synsets())
    out: dict[str, list[Path]] = {}
    for folder in sorted(split_dir.iterdir()):
        if not folder.is_dir():
            continue
        if folder.name not in known:
            raise DatasetError(f"{folder}: {folder.name!r} is not an ILSVRC-2012 synset (wnid) folder")
        files = sorted(folder.iterdir())
        if not files:
            raise DatasetError(f"{folder}: empty synset folder")
        for path in files:
            match = pattern.match(path.name)
            if match is None or match.groupdict().get("wnid", folder.name) != folder.name:
                raise DatasetError(f"{path}: not an image name of this layout ({pattern.pattern} in {folder.name}/)")
        out[folder.name] = files
    missing = sorted(known - set(out))
    if need_all and missing:
        raise DatasetError(f"{split_dir}: {len(missing)} of the 1000 ILSVRC-2012 synset folders are missing, "
                           f"e.g. {missing[0]} (incomplete extraction?)")
    return out


def draw(files: list[Path], n: int | None, seed: tuple[int, ...]) -> list[Path]:
    """``n`` of ``files`` drawn uniformly without replacement by ``default_rng(seed)``, in file
    order; all of them when ``n`` is None or at least ``len(files)``."""
    if n is None or n >= len(files):
        return files
    picked = np.random.default_rng(seed).choice(len(files), size=n, replace=False)
    return [files[i] for i in sorted(picked)]


def pools(images: dict[str, list[Path]]) -> tuple[dict[str, list[Path]], list[Path]]:
    """VOC class -> the image files of its synsets, and the background pool (the files of every
    synset neither mapped nor excluded), from wnid -> files."""
    mapping, excluded = voc_synsets()
    classes = {cls: [p for wnid in sorted(images) if mapping.get(wnid) == cls for p in images[wnid]]
               for cls in VOC_CLASSES}
    pool = [p for wnid in sorted(images) if wnid not in mapping and wnid not in excluded for p in images[wnid]]
    return classes, pool


def selection(images: dict[str, list[Path]], max_per_class: int | None, background: int, seed: int,
              split_id: int) -> list[tuple[str, Path]]:
    """(label, file) of the images of one split drawn as the module docstring says: class ``k``
    draws with ``default_rng((seed, split_id, k))``, background with ``k = 20``."""
    classes, pool = pools(images)
    jobs = [(cls, p) for k, cls in enumerate(VOC_CLASSES)
            for p in draw(classes[cls], max_per_class, (seed, split_id, k))]
    return jobs + [(BACKGROUND, p) for p in draw(pool, background, (seed, split_id, len(VOC_CLASSES)))]


def convert_imagenet_cls(root: Path, out: Path, name: str, max_per_class: int | None = None,
                         background: int = 60000, seed: int = 0, val: bool = False) -> pd.DataFrame:
    """Write the Pinheiro & Collobert ImageNet subset of the ILSVRC-2012 copy at ``root`` into ``out``.

    Args:
        root: folder holding ``train/`` (and ``val/`` when ``val``), see the module docstring.
        out: output dataset folder.
        name: dataset name (meta.json, progress bar).
        max_per_class: train object images per VOC class (drawn at random); None keeps all.
        background: train background images (Sec. 4.1: about 60,000).
        seed: seed of the draws.
        val: also convert ``val/`` into the ``val`` split.

    Returns:
        The index written (one row per image).

    Raises:
        DatasetError: a missing split folder, a folder that is not an ILSVRC-2012 synset, a
            file not named as in the layout, an empty synset folder, missing train synsets, or
            an unreadable image (the message names the folder or file).
    """
    if max_per_class is not None and max_per_class < 1:
        raise ValueError(f"max_per_class must be >= 1 or None; got {max_per_class}")
    if background < 0:
        raise ValueError(f"background must be >= 0; got {background}")
    train = synset_images(Path(root) / "train", TRAIN_FILE, need_all=True)
    jobs = [("train", *job) for job in selection(train, max_per_class, background, seed, 0)]
    if val:
        val_images = synset_images(Path(root) / "val", VAL_FILE, need_all=False)
        train_pool, val_pool = len(pools(train)[1]), len(pools(val_images)[1])
        n_background = round(min(background, train_pool) * val_pool / train_pool) if train_pool else 0
        jobs += [("val", *job) for job in selection(val_images, None, n_background, seed, 1)]
    meta = DatasetMeta(name=name, kind="classification", classes=VOC_CLASSES, mask_encoding="none",
                       source=f"ILSVRC-2012 at {root}: Pinheiro & Collobert Sec. 4.1 subset (VOC synsets of "
                              f"{SYNSET_FILE}, max_per_class={max_per_class}, background={background}, seed={seed})")
    writer = DatasetWriter(out, meta)
    for split, label, path in progress(jobs, desc=name, unit="img"):
        writer.add(item=f"{split}/{path.parent.name}/{path.stem}", split=split, image_file=path, labels=[label],
                   cls=label, has_object=label != BACKGROUND, box_annotated=False, boxes=[], box_labels=[],
                   mask=None)
    return writer.finalize()
