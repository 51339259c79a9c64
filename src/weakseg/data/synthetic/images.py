"""Still-image synthetic sets: co-segmentation groups, semantic scenes, classification.

``layout: groups`` (Object Discovery / Internet, MSRC, iCoseg, PASCAL-VOC co-seg,
PASCAL07-6x2, COCO-SEG): one group per class, or per class x viewpoint with
``views: [left, right]`` (the right view mirrors the object). Each image shows
``objects_per_image`` instances of the group class, except outliers
(``outlier_rate``): images of the group without the object, as Object Discovery has.
``clutter_rate`` adds an object of another class, which is background in the binary
mask. Every image carries its group's label.

``layout: scenes`` (VOC 2012-like): ``objects_per_image`` instances of random classes,
a semantic mask with a void band at object boundaries, labels = the classes present.

``layout: classification`` (Pinheiro & Collobert's ImageNet subset): one large object
per image, plus ``background_images`` images labelled ``background`` with no object.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from weakseg.data.synthetic.appearance import ClassAppearance, Instance, sample_instance
from weakseg.data.synthetic.scene import (
    BackgroundStyle,
    composite,
    render_background,
    tight_box,
    void_border,
)
from weakseg.data.writer import DatasetWriter
from weakseg.progress import progress

LAYOUTS: tuple[str, ...] = ("groups", "scenes", "classification")


@dataclass(frozen=True)
class ImagesSpec:
    """Knobs of a still-image dataset (config: ``synthetic.datasets.<name>``)."""

    layout: str
    classes: tuple[str, ...]
    size: tuple[int, int]                 # (height, width)
    images: dict[str, int]                # split -> images per group (groups, classification) or in total (scenes)
    objects_per_image: tuple[int, int]
    object_size: tuple[float, float]      # object half height as a fraction of the image height
    colour_jitter: float
    views: tuple[str, ...] = ()           # groups only: () or ("left", "right")
    outlier_rate: float = 0.0             # groups only
    clutter_rate: float = 0.0             # groups only
    background_images: dict[str, int] = field(default_factory=dict)  # classification: split -> count
    void_border: int = 0                  # scenes only: void band width in pixels


def generate_images(spec: ImagesSpec, appearances: dict[str, ClassAppearance], pool: np.ndarray,
                    style: BackgroundStyle, rng: np.random.Generator, writer: DatasetWriter) -> None:
    """Render every image of ``spec`` into ``writer``."""
    if spec.layout not in LAYOUTS:
        raise ValueError(f"layout {spec.layout!r} is not one of {list(LAYOUTS)}")
    jobs = _plan(spec, rng)
    for item, split, group, objects, label in progress(jobs, desc="images", unit="img"):
        _render_image(spec, appearances, pool, style, rng, writer, item, split, group, objects, label)


def _plan(spec: ImagesSpec, rng: np.random.Generator) -> list[tuple[str, str, str | None, list[str], str | None]]:
    """(item, split, group, classes of the objects to draw, group label) for every image."""
    jobs = []
    if spec.layout == "scenes":
        for split, n in spec.images.items():
            for i in range(n):
                k = int(rng.integers(spec.objects_per_image[0], spec.objects_per_image[1] + 1))
                jobs.append((f"{split}_{i:05d}", split, None, list(rng.choice(spec.classes, size=k)), None))
        return jobs
    groups = [(c, v) for c in spec.classes for v in (spec.views or (None,))]
    for cls, view in groups:
        group = f"{cls}_{view}" if view else cls
        for split, n in spec.images.items():
            for i in range(n):
                k = int(rng.integers(spec.objects_per_image[0], spec.objects_per_image[1] + 1))
                if spec.layout == "groups" and rng.random() < spec.outlier_rate:
                    k = 0
                jobs.append((f"{group}/{split}_{i:04d}", split, group, [cls] * k, cls))
    for split, n in spec.background_images.items():
        jobs += [(f"background/{split}_{i:04d}", split, None, [], "background") for i in range(n)]
    return jobs


def _render_image(spec: ImagesSpec, appearances: dict[str, ClassAppearance], pool: np.ndarray,
                  style: BackgroundStyle, rng: np.random.Generator, writer: DatasetWriter, item: str,
                  split: str, group: str | None, objects: list[str], label: str | None) -> None:
    h, w = spec.size
    right = group is not None and group.endswith("_right")
    instances: list[Instance] = [
        sample_instance(rng, appearances[c], rng.uniform(0.2, 0.8) * w, rng.uniform(0.25, 0.75) * h,
                        rng.uniform(*spec.object_size) * h, flip=right if spec.views else bool(rng.random() < 0.5),
                        colour_jitter=spec.colour_jitter)
        for c in objects
    ]
    if spec.layout == "groups" and rng.random() < spec.clutter_rate:
        other = [c for c in spec.classes if c != label]
        if other:
            c = str(rng.choice(other))
            instances.insert(0, sample_instance(rng, appearances[c], rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h,
                                                rng.uniform(*spec.object_size) * h * 0.8, flip=bool(rng.random() < 0.5),
                                                colour_jitter=spec.colour_jitter))
    object_colours = np.concatenate([i.colours for i in instances]) if instances else pool[:1]
    background = render_background(rng, h, w, pool, object_colours, style)
    comp = composite(rng, background, instances, style.noise)
    mask = np.zeros((h, w), np.uint8)
    kept = []
    for inst, visible in zip(instances, comp.visible):
        name = inst.appearance.name
        if not visible.any() or (spec.layout == "groups" and name != label):
            continue
        mask[visible] = 1 if spec.layout == "groups" else spec.classes.index(name) + 1
        kept.append((name, visible))
    if spec.layout == "scenes":
        mask = void_border(mask, spec.void_border)
        # an object whose few visible pixels all fall in the void band is not annotated
        kept = [(name, v) for name, v in kept if (mask[v] == spec.classes.index(name) + 1).any()]
    boxes, box_labels = [tight_box(v) for _, v in kept], [name for name, _ in kept]
    labels = sorted(set(box_labels)) if spec.layout == "scenes" else ([label] if label else [])
    writer.add(
        item=item, split=split, image=comp.image, labels=labels,
        cls=label if spec.layout != "scenes" else None, group=group,
        has_object=bool(boxes), box_annotated=True, boxes=boxes, box_labels=box_labels,
        mask=None if spec.layout == "classification" else mask,
    )
