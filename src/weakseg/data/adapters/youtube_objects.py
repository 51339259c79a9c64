"""YouTube-Objects v1.0 / v2.2 frames with the CoLo-CAM / TCAM splits, in the canonical format.

CoLo-CAM (Belharbi et al.), Sec. 4 "Datasets": training frames are all frames of the training
shots, weakly labelled by their video's class; validation videos (5 per class on YTOv1, 3 on
YTOv2.2) are held out of training; CorLoc is measured on the annotated test frames. The
protocol is fixed by the authors' split files (wsolevaluation format, read and validated by
:mod:`weakseg.data.yto_splits`; config ``real_datasets.<name>.splits``, default
``<root>/splits``); ``<root>`` holds the frames at the paths the split ids name:

* ``yto_v1`` (YTOv1.0): ``<root>/<class>/data/<video>/shots/<shot>/frame<NNNN>.jpg``;
* ``yto_v22`` (YTOv2.2): ``<root>/<class>/video-<video>/shot-<shot>/<NNNNNNNN>.jpg``

(``.png`` frames are read too). Every id of the split files must have the format's layout.

Rows (kind ``video``, mask_encoding ``none``, classes in ``class_id.yaml`` id order), in the
order of the split files, train then val then test:

* ``train``: every frame file of every shot listed in ``train/image_ids.txt`` (files matching
  :data:`FRAME_FILES`, in frame-number order; other files are ignored), labels ``[class]``,
  ``has_object`` True (the video label is assumed to hold in every frame), no boxes
  (``box_annotated`` False). A listed shot folder that is missing or holds no frame file
  raises :class:`DatasetError` naming it.
* ``val`` / ``test``: the annotated frames of ``val`` / ``test`` ``image_ids.txt``,
  ``box_annotated`` True, ``has_object`` = the frame has a box.

``item`` is ``<shot id>/<frame file stem>`` (the split id without ``.jpg`` for val/test
frames, e.g. ``aeroplane/data/0004/shots/004/frame0101``); ``video`` / ``shot`` are the id
prefixes of :func:`weakseg.data.yto_splits.read_split` (``aeroplane/data/0004``,
``aeroplane/data/0004/shots/004``); ``frame`` is the number in the frame file name. A video
in two splits raises :class:`DatasetError`. Images are copied byte for byte; the size of every
val/test frame must equal its ``image_sizes.txt`` line.

Boxes: ``localization.txt`` numbers as the authors give them, ``[x0, y0, x1, y1]`` float,
stored as continuous corners, clipped to ``[0, W] x [0, H]`` (the canonical format keeps boxes
inside the image; YTOv1 has 13 boxes overrunning the frame by up to 5 px). Neither
yto_splits nor the authors state a convention. Observed in the real files: YTOv1 boxes are
fractional, 0-based (min 0); YTOv2.2 boxes are integers from 1 up to W / H inclusive (never 0,
often exactly W or H), i.e. 1-based inclusive corners like VOC, whose continuous form would
be ``(x0 - 1, y0 - 1, x1, y1)``. They are kept unshifted so that the CoLo-CAM protocol
(:mod:`weakseg.methods.colocam.boxes`, +1 convention on the authors' numbers) scores
against exactly the authors' ground truth.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from weakseg.data.index import SPLITS, DatasetError, DatasetMeta
from weakseg.data.writer import DatasetWriter
from weakseg.data.yto_splits import ID_LAYOUTS, read_class_ids, read_splits
from weakseg.progress import progress

VERSIONS: dict[str, str] = {"yto_v1": "v1.0", "yto_v22": "v2.2"}
"""Format name -> release (key of :data:`weakseg.data.yto_splits.ID_LAYOUTS`)."""
FRAME_FILES: dict[str, re.Pattern[str]] = {
    "v1.0": re.compile(r"^frame(?P<number>\d+)\.(?:jpg|png)$"),
    "v2.2": re.compile(r"^(?P<number>\d+)\.(?:jpg|png)$"),
}
"""Frame file names of each release; ``number`` is the frame number."""
DEFAULT_SPLITS = "splits"
"""Split folder under the frames root when config gives no ``splits``."""


def shot_frames(folder: Path, version: str, listed_in: Path) -> list[tuple[int, Path]]:
    """(frame number, file) of the frame files in a shot folder, in frame-number order.

    ``listed_in`` (the split file naming the shot) is quoted when the folder is missing, holds
    no frame file, or holds two files of one frame number (e.g. ``.jpg`` and ``.png``).
    """
    if not folder.is_dir():
        raise DatasetError(f"{folder}: shot folder listed in {listed_in} not found")
    frames: dict[int, Path] = {}
    for path in folder.iterdir():
        match = FRAME_FILES[version].match(path.name)
        if match is None:
            continue
        number = int(match["number"])
        if number in frames:
            raise DatasetError(f"{folder}: two files of frame {number}: {frames[number].name}, {path.name}")
        frames[number] = path
    if not frames:
        raise DatasetError(f"{folder}: no frame files ({FRAME_FILES[version].pattern}) in this shot folder "
                           f"listed in {listed_in}")
    return sorted(frames.items())


def clip_boxes(boxes: np.ndarray, width: int, height: int) -> list[list[float]]:
    """(M, 4) float ``[x0, y0, x1, y1]`` clipped to ``[0, width] x [0, height]``, as lists."""
    clipped = np.array(boxes, dtype=np.float64).reshape(-1, 4)
    clipped[:, [0, 2]] = clipped[:, [0, 2]].clip(0, width)
    clipped[:, [1, 3]] = clipped[:, [1, 3]].clip(0, height)
    return clipped.tolist()


def _check_layout(tables: dict[str, pd.DataFrame], splits: Path, fmt: str) -> None:
    """Ids of the format's release; train lists shots, val/test list frames with sizes; no
    video in two splits."""
    version = VERSIONS[fmt]
    for split, table in tables.items():
        ids_file = splits / split / "image_ids.txt"
        wrong = [i for i in table["image_id"] if not ID_LAYOUTS[version].match(i)]
        if wrong:
            raise DatasetError(f"{ids_file}: {wrong[0]!r} is not a YTO{version} id, which format {fmt!r} expects "
                               f"(are these the splits of the other release?)")
        if split == "train" and table["frame"].notna().any():
            frame = table["image_id"][table["frame"].notna()].iloc[0]
            raise DatasetError(f"{ids_file}: {frame!r} is a frame; the train split lists shots")
        if split != "train" and table["frame"].isna().any():
            shot = table["image_id"][table["frame"].isna()].iloc[0]
            raise DatasetError(f"{ids_file}: {shot!r} is a shot; the {split} split lists annotated frames")
        if split != "train" and table["width"].isna().any():
            raise DatasetError(f"{splits / split / 'image_sizes.txt'}: empty; the {split} frames need their sizes")
    videos = {split: set(table["video"]) for split, table in tables.items()}
    for i, first in enumerate(SPLITS):
        for second in SPLITS[i + 1:]:
            shared = sorted(videos[first] & videos[second])
            if shared:
                raise DatasetError(f"{splits}: video {shared[0]!r} is in {first} and {second} "
                                   f"({len(shared)} shared videos); the splits must hold disjoint videos")


def _jobs(root: Path, splits: Path, tables: dict[str, pd.DataFrame], version: str) -> list[dict[str, Any]]:
    """One job per row to write: keyword arguments of ``DatasetWriter.add`` plus ``size`` (the
    ``image_sizes.txt`` (width, height) of a val/test frame, None for train)."""
    jobs = []
    for shot in tables["train"].itertuples(index=False):
        for number, path in shot_frames(root / shot.shot, version, splits / "train" / "image_ids.txt"):
            jobs.append({"item": f"{shot.shot}/{path.stem}", "split": "train", "image_file": path,
                         "cls": shot.class_name, "video": shot.video, "shot": shot.shot, "frame": number,
                         "has_object": True, "box_annotated": False, "boxes": [], "size": None})
    for split in ("val", "test"):
        for row in tables[split].itertuples(index=False):
            match = FRAME_FILES[version].match(row.frame)
            if match is None:
                raise DatasetError(f"{splits / split / 'image_ids.txt'}: {row.image_id!r} has frame file "
                                   f"{row.frame!r}; expected {FRAME_FILES[version].pattern}")
            boxes = clip_boxes(row.boxes, int(row.width), int(row.height))
            jobs.append({"item": f"{row.shot}/{Path(row.frame).stem}", "split": split,
                         "image_file": root / row.image_id, "cls": row.class_name, "video": row.video,
                         "shot": row.shot, "frame": int(match["number"]), "has_object": bool(boxes),
                         "box_annotated": True, "boxes": boxes, "size": (int(row.width), int(row.height))})
    return jobs


def convert_youtube_objects(root: Path, out: Path, name: str, fmt: str, splits: Path | None = None) -> pd.DataFrame:
    """Write YouTube-Objects frames at ``root`` with the splits at ``splits`` into the canonical dataset ``out``.

    Args:
        root: frames root; split ids are paths relative to it.
        out: output dataset folder.
        name: dataset name (meta.json, messages).
        fmt: ``yto_v1`` or ``yto_v22`` (:data:`VERSIONS`).
        splits: folder with ``class_id.yaml`` and ``train`` / ``val`` / ``test``; default
            ``<root>/splits``.

    Returns:
        The index written (one row per frame; see the module docstring).

    Raises:
        FileNotFoundError: the split folder is missing.
        DatasetError: bad split files, wrong release, a video in two splits, a missing or
            empty train shot folder, a missing val/test frame, or a frame whose size differs
            from ``image_sizes.txt`` (the message names the file).
    """
    if fmt not in VERSIONS:
        raise ValueError(f"fmt {fmt!r} is not one of {sorted(VERSIONS)}")
    root = Path(root)
    splits = root / DEFAULT_SPLITS if splits is None else Path(splits)
    if not splits.is_dir():
        raise FileNotFoundError(f"{splits}: split folder not found; set config 'real_datasets.{name}.splits'")
    tables = read_splits(splits)
    _check_layout(tables, splits, fmt)
    class_ids = read_class_ids(splits)
    meta = DatasetMeta(name=name, kind="video", classes=tuple(sorted(class_ids, key=class_ids.__getitem__)),
                       mask_encoding="none",
                       source=f"YouTube-Objects {VERSIONS[fmt]} frames at {root}, CoLo-CAM/TCAM splits at {splits}")
    jobs = _jobs(root, splits, tables, VERSIONS[fmt])
    for job in jobs:
        if job["size"] is not None and not job["image_file"].is_file():
            raise DatasetError(f"{job['image_file']}: {job['split']} frame listed in "
                               f"{splits / job['split'] / 'image_ids.txt'} not found")
    writer = DatasetWriter(out, meta)
    for job in progress(jobs, desc=name, unit="frame"):
        size = job.pop("size")
        cls = job.pop("cls")
        writer.add(**job, labels=[cls], cls=cls, box_labels=[cls] * len(job["boxes"]), mask=None)
        written = (writer.rows[-1]["width"], writer.rows[-1]["height"])
        if size is not None and written != size:
            raise DatasetError(f"{job['image_file']}: image is {written[0]}x{written[1]}, "
                               f"{splits / job['split'] / 'image_sizes.txt'} gives {size[0]}x{size[1]}")
    return writer.finalize()


def convert_yto_v1(root: Path, out: Path, name: str, splits: Path | None = None) -> pd.DataFrame:
    """Format ``yto_v1``: :func:`convert_youtube_objects` on the YTOv1.0 layout."""
    return convert_youtube_objects(root, out, name, "yto_v1", splits)


def convert_yto_v22(root: Path, out: Path, name: str, splits: Path | None = None) -> pd.DataFrame:
    """Format ``yto_v22``: :func:`convert_youtube_objects` on the YTOv2.2 layout."""
    return convert_youtube_objects(root, out, name, "yto_v22", splits)
