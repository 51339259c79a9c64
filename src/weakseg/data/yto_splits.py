"""Readers of the YouTube-Objects splits of CoLo-CAM and TCAM (wsolevaluation metadata format).

CoLo-CAM (Belharbi et al.), Sec. 4 "Datasets": YTOv1 has 27 test videos (396 boxes) and 128
training videos, of which 5 per class are held out for validation; YTOv2.2 has 106 training
videos (3 per class held out) and 49 test videos (2667 boxes). The authors' split files
(sbelharbi/colo-cam ``folds/``) are laid out as::

    <root>/class_id.yaml               {aeroplane: 0, bird: 1, ..., train: 9}
    <root>/<split>/image_ids.txt       one id per line
    <root>/<split>/class_labels.txt    <id>,<class id>
    <root>/<split>/image_sizes.txt     <id>,<width>,<height>
    <root>/<split>/localization.txt    <id>,<x0>,<y0>,<x1>,<y1>  (one line per box)

with ``<split>`` in train / val / test. Ids are paths in the dataset's own layout:

* YTOv1.0: ``<class>/data/<video>/shots/<shot>`` (``aeroplane/data/0013/shots/330``), and a
  frame ``.../shots/<shot>/frame<NNNN>.jpg``;
* YTOv2.2: ``<class>/video-<video>/shot-<shot>`` (``horse/video-0014/shot-000139``), and a
  frame ``.../shot-<shot>/<NNNNNNNN>.jpg``.

The train split lists shots (the training frames are all frames of those shots, read from the
videos) and has empty ``image_sizes.txt`` / ``localization.txt``; val and test list the
annotated frames with their boxes (pixels of the original frame; YTOv1 boxes are fractional
and a few overrun the frame by up to 5 px, kept as they are). Malformed files raise
:class:`~weakseg.data.index.DatasetError` naming the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from weakseg.data.index import SPLITS, DatasetError

CLASS_ID_FILE = "class_id.yaml"
SPLIT_FILES: tuple[str, ...] = ("image_ids.txt", "class_labels.txt", "image_sizes.txt", "localization.txt")
ID_LAYOUTS: dict[str, re.Pattern[str]] = {
    "v1.0": re.compile(r"^(?P<video>(?P<class_name>[^/]+)/data/\d+)/shots/\d+(?:/(?P<frame>[^/]+\.(?:jpg|png)))?$"),
    "v2.2": re.compile(r"^(?P<video>(?P<class_name>[^/]+)/video-\d+)/shot-\d+(?:/(?P<frame>[^/]+\.(?:jpg|png)))?$"),
}
"""Id patterns of the two releases: a shot id, optionally followed by ``/<frame file>``."""
SPLIT_COLUMNS: tuple[str, ...] = ("image_id", "class_name", "video", "shot", "frame", "class_id", "width",
                                  "height", "boxes")


def _lines(path: Path) -> list[tuple[int, str]]:
    """(1-based line number, text) of every line; no blank lines allowed but the final newline."""
    if not path.is_file():
        raise DatasetError(f"{path}: missing; a split folder holds {', '.join(SPLIT_FILES)}")
    text = path.read_text()
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    out = []
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\r")
        if not line.strip():
            raise DatasetError(f"{path}:{number}: empty line")
        out.append((number, line))
    return out


def _records(path: Path, fields: str, parse: Callable[[str], float], known: Container[str], unique: bool,
             check: Callable[[list[float]], str | None] = lambda values: None) -> dict[str, list[list[float]]]:
    """Parse ``<image_id>,<v1>,...`` lines of ``path``: id -> list of value rows.

    ``fields`` names the values for messages (e.g. ``"<width>,<height>"``); every id must be in
    ``known`` (the image ids) and, when ``unique``, appear once; ``check`` returns what is wrong
    with a row of parsed values, or None.
    """
    n_values = fields.count(",") + 1
    rows: dict[str, list[list[float]]] = {}
    for number, line in _lines(path):
        parts = line.split(",")
        where = f"{path}:{number}: {line!r}"
        if len(parts) != n_values + 1:
            raise DatasetError(f"{where}: expected <image_id>,{fields}")
        image_id = parts[0]
        if image_id not in known:
            raise DatasetError(f"{where}: id not in {path.parent / 'image_ids.txt'}")
        if unique and image_id in rows:
            raise DatasetError(f"{where}: second line for this id")
        try:
            values = [parse(v) for v in parts[1:]]
        except ValueError as err:
            raise DatasetError(f"{where}: expected <image_id>,{fields} ({err})") from None
        problem = check(values)
        if problem:
            raise DatasetError(f"{where}: {problem}")
        rows.setdefault(image_id, []).append(values)
    return rows


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"size {value} is not positive")
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if not np.isfinite(value):
        raise ValueError(f"coordinate {text} is not finite")
    return value


def _read_ids(path: Path) -> dict[str, re.Match[str]]:
    """Image id -> its layout match, in file order."""
    ids: dict[str, re.Match[str]] = {}
    for number, line in _lines(path):
        match = next((m for m in (p.match(line) for p in ID_LAYOUTS.values()) if m), None)
        if match is None:
            raise DatasetError(f"{path}:{number}: {line!r} is neither a YTOv1.0 id "
                               "(<class>/data/<video>/shots/<shot>[/<frame>.jpg]) nor a YTOv2.2 id "
                               "(<class>/video-<video>/shot-<shot>[/<frame>.jpg])")
        if line in ids:
            raise DatasetError(f"{path}:{number}: {line!r} listed twice")
        ids[line] = match
    return ids


def _box_problem(box: list[float]) -> str | None:
    x0, y0, x1, y1 = box
    return "x1 < x0 or y1 < y0 (expected <x0>,<y0>,<x1>,<y1>)" if x1 < x0 or y1 < y0 else None


def read_split(folder: str | Path) -> pd.DataFrame:
    """One split folder of the wsolevaluation metadata: one row per line of ``image_ids.txt``.

    Args:
        folder: ``<root>/<split>`` holding the four :data:`SPLIT_FILES`.

    Returns:
        DataFrame with :data:`SPLIT_COLUMNS`, rows in ``image_ids.txt`` order:
        ``image_id`` (str, as in the files), ``class_name`` (first id component), ``video``
        (id prefix naming the video, e.g. ``aeroplane/data/0013`` or ``horse/video-0014``),
        ``shot`` (id prefix naming the shot; the id itself for a shot row), ``frame`` (frame file
        name, None for a shot row), ``class_id`` (int, from ``class_labels.txt``), ``width`` /
        ``height`` (nullable Int64, NA when ``image_sizes.txt`` is empty), ``boxes`` ((M, 4)
        float64 ``[x0, y0, x1, y1]`` in original-frame pixels, M = 0 when the id has none).

    Raises:
        DatasetError: a file is missing, a line is malformed (the message names file and line),
            an id is unknown or repeated, an id has no class label, or ``image_sizes.txt`` is
            neither empty nor complete.
    """
    folder = Path(folder)
    ids = _read_ids(folder / "image_ids.txt")
    labels = _records(folder / "class_labels.txt", "<class_id>", int, ids, unique=True)
    sizes = _records(folder / "image_sizes.txt", "<width>,<height>", _positive_int, ids, unique=True)
    boxes = _records(folder / "localization.txt", "<x0>,<y0>,<x1>,<y1>", _finite_float, ids, unique=False,
                     check=_box_problem)
    for name, table in (("class_labels.txt", labels), ("image_sizes.txt", sizes)):
        missing = [i for i in ids if i not in table]
        if missing and (table or name == "class_labels.txt"):
            raise DatasetError(f"{folder / name}: no line for {len(missing)} ids of image_ids.txt, "
                               f"e.g. {missing[0]!r}")
    rows = []
    for image_id, match in ids.items():
        frame = match["frame"]
        rows.append({
            "image_id": image_id, "class_name": match["class_name"], "video": match["video"],
            "shot": image_id.rsplit("/", 1)[0] if frame else image_id, "frame": frame,
            "class_id": labels[image_id][0][0],
            "width": sizes[image_id][0][0] if sizes else pd.NA, "height": sizes[image_id][0][1] if sizes else pd.NA,
            "boxes": np.array(boxes.get(image_id, []), dtype=np.float64).reshape(-1, 4),
        })
    table = pd.DataFrame(rows, columns=list(SPLIT_COLUMNS))
    return table.astype({"class_id": "int64", "width": "Int64", "height": "Int64"})


def read_class_ids(root: str | Path) -> dict[str, int]:
    """``<root>/class_id.yaml``: class name -> class id (``{aeroplane: 0, ..., train: 9}``)."""
    path = Path(root) / CLASS_ID_FILE
    if not path.is_file():
        raise DatasetError(f"{path}: missing; expected a YAML mapping class name -> class id")
    try:
        mapping = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise DatasetError(f"{path}: not valid YAML ({err})") from None
    if (not isinstance(mapping, dict) or not mapping
            or not all(isinstance(k, str) and type(v) is int for k, v in mapping.items())):
        raise DatasetError(f"{path}: expected a non-empty mapping class name -> integer id; got {mapping!r}")
    if len(set(mapping.values())) != len(mapping):
        raise DatasetError(f"{path}: two classes share an id: {mapping}")
    return mapping


def read_splits(root: str | Path) -> dict[str, pd.DataFrame]:
    """The train / val / test splits of a ``YouTube-Objects-v1.0`` or ``-v2.2`` folder.

    Checks each row's ``class_id`` against ``class_id.yaml`` and the class named by its id.

    Returns:
        split -> :func:`read_split` table, for every split in ``weakseg.data.index.SPLITS``.
    """
    root = Path(root)
    class_ids = read_class_ids(root)
    splits = {}
    for split in SPLITS:
        table = read_split(root / split)
        expected = table["class_name"].map(class_ids)
        bad = table[expected.isna() | (expected != table["class_id"])]
        if len(bad):
            row = bad.iloc[0]
            raise DatasetError(f"{root / split / 'class_labels.txt'}: {row.image_id!r} has class id {row.class_id}, "
                               f"but {root / CLASS_ID_FILE} gives {row.class_name!r} "
                               f"{class_ids.get(row.class_name, 'no id')}")
        splits[split] = table
    return splits


def split_counts(root: str | Path) -> dict[str, dict[str, int]]:
    """Sizes of each split of a ``YouTube-Objects-v1.0`` / ``-v2.2`` folder, as quoted in the notes.

    Returns:
        split -> ``{"classes", "videos", "shots", "frames", "boxes"}``: distinct classes, videos
        and shots; ``frames`` = rows that are frames (0 for train, which lists shots: its
        ``shots`` is the "train shots" count, e.g. 2768 for YTOv1, 1289 for YTOv2.2); ``boxes``
        = lines of ``localization.txt``.
    """
    return {split: {"classes": int(table["class_id"].nunique()), "videos": int(table["video"].nunique()),
                    "shots": int(table["shot"].nunique()), "frames": int(table["frame"].notna().sum()),
                    "boxes": int(sum(len(b) for b in table["boxes"]))}
            for split, table in read_splits(root).items()}
