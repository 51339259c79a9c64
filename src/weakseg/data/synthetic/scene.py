"""Backgrounds and scene composition of the synthetic benchmark.

A background is a smooth random field mapped through colours of the shared palette
(with probability ``object_colour_rate`` one of them is a colour of the scene's object
class, so colour alone does not separate object and background), a fine grating
texture, and distractors: ellipses and rectangles with textures of their own.
Objects are composited in order (later ones occlude earlier ones); the visible part of
each object gives its mask and its tight box.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from weakseg.data.synthetic.appearance import Instance, render_instance


@dataclass(frozen=True)
class BackgroundStyle:
    """Knobs of the background model (config: ``synthetic.background``)."""

    distractors: tuple[int, int]     # inclusive range of distractor shapes per background
    object_colour_rate: float        # probability that the background reuses an object colour
    noise: float                     # std of per-pixel Gaussian noise added to each image


def render_background(rng: np.random.Generator, height: int, width: int, pool: np.ndarray,
                      object_colours: np.ndarray, style: BackgroundStyle) -> np.ndarray:
    """A textured background with distractors, float (H, W, 3) in [0, 1]."""
    colours = pool[rng.choice(len(pool), size=3, replace=False)].copy()
    if rng.random() < style.object_colour_rate:
        colours[rng.integers(3)] = object_colours[rng.integers(len(object_colours))]
    field = _smooth_field(rng, height, width, cells=4)
    second = _smooth_field(rng, height, width, cells=3)
    img = (colours[0] * field[..., None] + colours[1] * (1 - field[..., None])) * (1 - 0.4 * second[..., None]) \
        + colours[2] * 0.4 * second[..., None]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    f, a = rng.uniform(0.1, 0.4), rng.uniform(0, np.pi)
    img *= (1 + 0.08 * np.sin(f * (xs * np.cos(a) + ys * np.sin(a))))[..., None]
    for _ in range(rng.integers(style.distractors[0], style.distractors[1] + 1)):
        _draw_distractor(rng, img, pool, object_colours, style.object_colour_rate)
    return np.clip(img, 0, 1)


def _smooth_field(rng: np.random.Generator, height: int, width: int, cells: int) -> np.ndarray:
    """Low-frequency noise in [0, 1]: a random ``cells x cells`` grid upsampled bicubically."""
    grid = rng.uniform(0, 1, size=(cells, cells)).astype(np.float32)
    return np.clip(cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC), 0, 1)


def _draw_distractor(rng: np.random.Generator, img: np.ndarray, pool: np.ndarray,
                     object_colours: np.ndarray, object_colour_rate: float) -> None:
    """Paint one ellipse or rectangle with a striped texture into ``img`` in place."""
    h, w = img.shape[:2]
    colour = object_colours[rng.integers(len(object_colours))] if rng.random() < object_colour_rate \
        else pool[rng.integers(len(pool))]
    other = pool[rng.integers(len(pool))]
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    rx, ry = rng.uniform(0.05, 0.2) * w, rng.uniform(0.05, 0.2) * h
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    if rng.random() < 0.5:
        inside = ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2 < 1
    else:
        inside = (np.abs(xs - cx) < rx) & (np.abs(ys - cy) < ry)
    stripes = (np.sin(rng.uniform(0.3, 1.2) * (xs + ys)) > 0)[..., None]
    img[inside] = np.where(stripes, colour, other)[inside]


@dataclass
class Composite:
    """A rendered image with its per-object visible masks."""

    image: np.ndarray                # uint8 (H, W, 3) RGB
    visible: list[np.ndarray]        # bool (H, W) per instance, after occlusion


def composite(rng: np.random.Generator, background: np.ndarray, instances: list[Instance],
              noise: float) -> Composite:
    """Paint ``instances`` in order over ``background`` and add pixel noise."""
    img = background.copy()
    h, w = img.shape[:2]
    owner = np.full((h, w), -1, dtype=np.int32)
    for i, inst in enumerate(instances):
        alpha, rgb = render_instance(inst, h, w)
        img[alpha] = rgb[alpha]
        owner[alpha] = i
    img = img + rng.normal(0, noise, size=img.shape)
    image = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
    return Composite(image=image, visible=[owner == i for i in range(len(instances))])


def tight_box(visible: np.ndarray) -> list[float] | None:
    """Tight box ``[x_min, y_min, x_max, y_max]`` (continuous corners) of a bool mask, None if empty."""
    ys, xs = np.nonzero(visible)
    if len(xs) == 0:
        return None
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


def void_border(mask: np.ndarray, width: int) -> np.ndarray:
    """Mark a band of ``width`` pixels around every object boundary as void (255), as VOC does."""
    if width <= 0:
        return mask
    kernel = np.ones((2 * width + 1, 2 * width + 1), np.uint8)
    edges = cv2.dilate(mask, kernel) != cv2.erode(mask, kernel)
    out = mask.copy()
    out[edges] = 255
    return out
