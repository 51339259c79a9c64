"""Jain & Grauman's YouTube-Objects segmentation ground truth (ECCV 2014), for Foreground Clustering Table 2.

Foreground Clustering (Sharma), Sec. 6.0.1: YouTube-Objects "provides pixel level annotations for
a subset of videos. We evaluate our method for segmentation on all the videos with pixel level
ground truth annotation", optimising on "key frames from each video ... uniformly with stride
10". These annotations are Jain & Grauman's (Supervoxel-consistent foreground propagation in
video, ECCV 2014): about one frame in ten of one shot per video is segmented, so the annotated
frames are the key frames, and every one of them is evaluated.

Release layout (``youtube_masks``, vision.cs.utexas.edu/projects/videoseg/), as public code reads
it (shelhamer/clockwork-fcn datasets/youtube.py, linjieyangsc/video_seg
preprocessing/preprocess_youtube.py)::

    <root>/<class>/data/<video>/shots/<shot>/labels/<NNNNN>.jpg   ground truth, 0 / 255 (JPEG)
    <root>/<class>/data/<video>/shots/<shot>/images/<NNNNN>.png   the annotated frame

for the 10 YouTube-Objects classes (all 10 class folders must be there; other entries of
``<root>`` are ignored). ``<NNNNN>`` is the frame number in the YouTube-Objects v1.0 shot of the
same ids: clockwork-fcn pairs label ``<NNNNN>.jpg`` with v1.0 frame
``<class>/data/<video>/shots/<shot>/frame<NNNN>.jpg``.

Rows (kind ``video``, mask_encoding ``binary``, classes the 10 YTO classes, split ``test``),
in class, video, shot, frame order: item ``<class>/data/<video>/shots/<shot>/frame<NNNN>`` (the
YTOv1.0 converter's item of that frame), ``video`` ``<class>/data/<video>``, ``shot`` the item's
folder, labels and class ``[class]``. An annotated frame has its mask (foreground: grey level >
127, :func:`weakseg.data.adapters.voc_coseg.binary_mask`), ``box_annotated`` True with the tight
box of all its foreground pixels (the release has no boxes; one box over every object of the
frame), and ``has_object`` = the mask has foreground.

Images: by default only the annotated frames, the release's PNGs copied byte for byte. With
``frames`` (a YouTube-Objects v1.0 frames root, ``<class>/data/<video>/shots/<shot>/frame<NNNN>.jpg``),
every v1.0 frame of each annotated shot instead (motion cues need consecutive frames), brought
to the masks' size when it differs (same aspect ratio within 1 %, else an error; INTER_AREA,
re-encoded as JPEG); frames without a label have no mask, no box (``box_annotated`` False) and
``has_object`` True (the video label). Each annotated frame's v1.0 image must match the
release's PNG (mean absolute difference at most :data:`MATCH_TOLERANCE` grey levels), which
checks the pairing of the two numberings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from weakseg.data.adapters.voc_coseg import binary_mask
from weakseg.data.adapters.youtube_objects import shot_frames
from weakseg.data.benchmarks import load_benchmarks
from weakseg.data.index import DatasetError, DatasetMeta, read_image
from weakseg.data.synthetic.scene import tight_box
from weakseg.data.writer import DatasetWriter
from weakseg.progress import progress

LABEL_FILE = re.compile(r"^(?P<number>\d+)\.jpg$")
MATCH_TOLERANCE = 20.0
"""Largest mean absolute difference (grey levels, 0..255) between a release PNG and the v1.0
frame paired with it (resampling and JPEG noise stay far below; another video far above)."""
ASPECT_TOLERANCE = 0.01


def annotated_shots(root: Path) -> list[tuple[str, Path]]:
    """(class, shot folder) of every ``<class>/data/<video>/shots/<shot>`` holding ``labels/``, in order."""
    shots = []
    for cls in load_benchmarks()["yto_v1"].classes:
        data = root / cls / "data"
        if not data.is_dir():
            raise DatasetError(f"{data}: not found; expected {root}/<class>/data/<video>/shots/<shot>/labels/ "
                               f"for the 10 YouTube-Objects classes")
        for shot in sorted(p for p in data.glob("*/shots/*") if p.is_dir()):
            if not (shot / "labels").is_dir():
                raise DatasetError(f"{shot / 'labels'}: not found; every annotated shot holds labels/ and images/")
            shots.append((cls, shot))
    return shots


def shot_labels(shot: Path) -> dict[int, Path]:
    """Frame number -> label file of ``<shot>/labels``; other files than ``.jpg`` are ignored."""
    labels: dict[int, Path] = {}
    for path in sorted((shot / "labels").glob("*.jpg")):
        match = LABEL_FILE.match(path.name)
        if match is None:
            raise DatasetError(f"{path}: label file name is not <frame number>.jpg")
        if int(match["number"]) in labels:
            raise DatasetError(f"{path}: second label file of frame {int(match['number'])}")
        labels[int(match["number"])] = path
    if not labels:
        raise DatasetError(f"{shot / 'labels'}: no label files (<frame number>.jpg)")
    return labels


def fit_frame(path: Path, shape: tuple[int, int]) -> tuple[np.ndarray | None, np.ndarray]:
    """(the frame resized to ``shape`` (H, W), or None when it already has it; the frame at
    ``shape``), RGB uint8 (H, W, 3). Another aspect ratio raises :class:`DatasetError`."""
    image = read_image(path)
    if image.shape[:2] == shape:
        return None, image
    (h, w), (fh, fw) = shape, image.shape[:2]
    if abs((fw / fh) / (w / h) - 1) > ASPECT_TOLERANCE:
        raise DatasetError(f"{path}: frame is {fw}x{fh}, the masks of its shot are {w}x{h} (another aspect ratio)")
    resized = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
    return resized, resized


def annotation(mask: np.ndarray, cls: str) -> dict[str, Any]:
    """Row fields of an annotated frame of class ``cls`` from its binary mask uint8 (H, W)."""
    box = tight_box(mask > 0)
    boxes = [] if box is None else [box]
    return {"has_object": box is not None, "box_annotated": True, "boxes": boxes, "box_labels": [cls] * len(boxes),
            "mask": mask}


def shot_jobs(root: Path, cls: str, shot: Path, frames: Path | None) -> Iterator[dict[str, Any]]:
    """Keyword arguments of ``DatasetWriter.add`` for the rows of one annotated shot, one frame at a
    time (a v1.0 shot can hold thousands of frames)."""
    shot_id = shot.relative_to(root).as_posix()
    video = shot_id.split("/shots/")[0]
    common = {"split": "test", "labels": [cls], "cls": cls, "video": video, "shot": shot_id}
    masks = {}
    for number, label in shot_labels(shot).items():
        png = shot / "images" / f"{label.stem}.png"
        if not png.is_file():
            raise DatasetError(f"{png}: annotated frame of {label} not found")
        masks[number] = (png, binary_mask(label, read_image(png).shape[:2]))
    if frames is None:
        yield from ({**common, "item": f"{shot_id}/frame{n:04d}", "image_file": png, "frame": n,
                     **annotation(mask, cls)} for n, (png, mask) in masks.items())
        return
    v1_frames = dict(shot_frames(frames / shot_id, "v1.0", shot / "labels"))
    unpaired = sorted(set(masks) - set(v1_frames))
    if unpaired:
        raise DatasetError(f"{shot / 'labels'}: frame {unpaired[0]} has a label but no frame in {frames / shot_id}")
    shapes = {n: mask.shape for n, (_, mask) in masks.items()}
    shape = next(iter(shapes.values()))
    other = [n for n, s in shapes.items() if s != shape]
    if other:
        raise DatasetError(f"{masks[other[0]][0]}: annotated frame is {shapes[other[0]][1]}x{shapes[other[0]][0]}, "
                           f"other frames of its shot are {shape[1]}x{shape[0]}")
    for n, path in v1_frames.items():
        resized, image = fit_frame(path, shape)
        source = {"image_file": path} if resized is None else {"image": resized}
        if n in masks:
            png, mask = masks[n]
            difference = float(np.abs(image.astype(np.float32) - read_image(png).astype(np.float32)).mean())
            if difference > MATCH_TOLERANCE:
                raise DatasetError(f"{path}: differs from the annotated frame {png} by {difference:.1f} grey levels "
                                   f"on average (> {MATCH_TOLERANCE}); the frame numberings do not pair")
            yield {**common, "item": f"{shot_id}/{path.stem}", **source, "frame": n, **annotation(mask, cls)}
        else:
            yield {**common, "item": f"{shot_id}/{path.stem}", **source, "frame": n, "has_object": True,
                   "box_annotated": False, "boxes": [], "box_labels": [], "mask": None}


def convert_yto_masks(root: Path, out: Path, name: str, frames: Path | None = None) -> pd.DataFrame:
    """Write Jain & Grauman's YouTube-Objects ground truth at ``root`` into the canonical dataset ``out``.

    Args:
        root: the ``youtube_masks`` folder (see the module docstring).
        out: output dataset folder.
        name: dataset name (meta.json, progress bar).
        frames: a YouTube-Objects v1.0 frames root; when given, every v1.0 frame of the annotated
            shots is written, not only the annotated ones.

    Returns:
        The index written (one row per frame).

    Raises:
        DatasetError: a missing class folder, a shot without ``labels/``, a label without its
            PNG or of another size, a badly named label, and with ``frames``: a missing shot
            folder or frame, a frame of another aspect ratio, or one that does not match its
            PNG (the message names the file).
    """
    root = Path(root)
    classes = tuple(load_benchmarks()["yto_v1"].classes)
    source = f"Jain & Grauman YouTube-Objects masks at {root}" + (f", YouTube-Objects v1.0 frames at {frames}"
                                                                   if frames is not None else "")
    writer = DatasetWriter(out, DatasetMeta(name=name, kind="video", classes=classes, mask_encoding="binary",
                                            source=source))
    for cls, shot in progress(annotated_shots(root), desc=name, unit="shot"):
        for job in shot_jobs(root, cls, shot, None if frames is None else Path(frames)):
            writer.add(**job)
    return writer.finalize()
