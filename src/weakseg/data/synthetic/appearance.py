"""Class appearance models and object instances of the synthetic benchmark.

A class is a distribution over object instances: a star-convex shape with a
class-specific radial profile ``r(theta) = 1 + sum_k a_k cos(k theta + phi_k)`` and
aspect ratio, a texture (oriented gratings with class-specific frequencies) and two
colours drawn from a palette *shared by all classes and backgrounds*, so that colour
statistics overlap between classes and with the background. Everything derives from
``(class name, seed)``, so a class looks alike in every dataset of one profile (the
VOC-like and video sets share ten classes, as the real VOC and YouTube-Objects do).
The odd harmonics make shapes left/right asymmetric, which gives viewpoints meaning.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

# Names that denote the same object concept across benchmarks share one appearance.
ALIASES: dict[str, str] = {"airplane": "aeroplane", "plane": "aeroplane", "brownbear": "bear", "bear2": "bear"}
TEXTURES: tuple[str, ...] = ("stripes", "checker", "spots", "smooth")


def stable_seed(*parts: object) -> list[int]:
    """Deterministic seed material from strings and ints (independent of PYTHONHASHSEED)."""
    return [zlib.crc32(str(p).encode()) for p in parts]


def palette(seed: int, size: int) -> np.ndarray:
    """The shared colour pool, float (size, 3) RGB in [0, 1]."""
    rng = np.random.default_rng(stable_seed("palette", seed))
    return rng.uniform(0.05, 0.95, size=(size, 3))


@dataclass(frozen=True)
class ClassAppearance:
    """Shape, texture and colour statistics of one class."""

    name: str
    harmonics: np.ndarray      # (K, 2): amplitude a_k and phase phi_k for k = 1..K
    aspect: float              # width / height of the normalised shape
    colours: np.ndarray        # (2, 3) RGB in [0, 1], two entries of the shared palette
    texture: str               # one of TEXTURES
    frequency: float           # texture cycles per object radius
    angle: float               # texture orientation (radians)


def class_appearance(name: str, seed: int, pool: np.ndarray) -> ClassAppearance:
    """The appearance model of class ``name`` (aliases resolved), drawn from ``seed``."""
    key = ALIASES.get(name, name)
    rng = np.random.default_rng(stable_seed("class", key, seed))
    n_harm = 4
    amps = rng.uniform(0.0, 1.0, n_harm) / np.arange(1, n_harm + 1)
    amps *= rng.uniform(0.25, 0.5) / amps.sum()  # keeps r(theta) in [0.5, 1.5]: star-convex
    harmonics = np.stack([amps, rng.uniform(0, 2 * np.pi, n_harm)], axis=1)
    colours = pool[rng.choice(len(pool), size=2, replace=False)]
    return ClassAppearance(
        name=name, harmonics=harmonics, aspect=float(np.exp(rng.uniform(-0.5, 0.5))), colours=colours,
        texture=str(rng.choice(TEXTURES)), frequency=float(rng.uniform(1.0, 4.0)),
        angle=float(rng.uniform(0, np.pi)),
    )


@dataclass
class Instance:
    """One object of a class placed in an image (pixel units, image coordinates)."""

    appearance: ClassAppearance
    cx: float
    cy: float
    radius: float              # half height of the object in pixels
    rotation: float            # radians
    flip: bool                 # mirrored: the "right" viewpoint
    colours: np.ndarray        # (2, 3) instance colours (class colours + jitter)
    shape_noise: np.ndarray    # (K,) per-instance perturbation of the harmonic amplitudes
    phase: float               # texture phase


def sample_instance(rng: np.random.Generator, appearance: ClassAppearance, cx: float, cy: float,
                    radius: float, flip: bool, colour_jitter: float) -> Instance:
    """Draw one instance of ``appearance``: colour, shape and pose jitter."""
    colours = np.clip(appearance.colours + rng.normal(0, colour_jitter, size=(2, 3)), 0, 1)
    return Instance(
        appearance=appearance, cx=cx, cy=cy, radius=radius, rotation=float(rng.normal(0, 0.15)),
        flip=flip, colours=colours, shape_noise=rng.normal(0, 0.03, size=len(appearance.harmonics)),
        phase=float(rng.uniform(0, 2 * np.pi)),
    )


def render_instance(inst: Instance, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Rasterise an instance: returns ``(alpha, rgb)``, bool (H, W) and float (H, W, 3).

    ``rgb`` is defined everywhere but meaningful only where ``alpha`` is True.
    """
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    dx, dy = xs + 0.5 - inst.cx, ys + 0.5 - inst.cy
    c, s = np.cos(inst.rotation), np.sin(inst.rotation)
    u = (c * dx + s * dy) / (inst.radius * inst.appearance.aspect)
    v = (-s * dx + c * dy) / inst.radius
    if inst.flip:
        u = -u
    rho, theta = np.hypot(u, v), np.arctan2(v, u)
    amps = inst.appearance.harmonics[:, 0] + inst.shape_noise
    k = np.arange(1, len(amps) + 1, dtype=np.float32)[:, None, None]
    r = 1.0 + (amps[:, None, None] * np.cos(k * theta + inst.appearance.harmonics[:, 1, None, None])).sum(0)
    alpha = rho < r
    t = _texture(inst.appearance.texture, u, v, inst.appearance.frequency, inst.appearance.angle, inst.phase)
    shade = 1.0 - 0.25 * np.clip(rho / np.maximum(r, 1e-3), 0, 1) ** 2
    rgb = (inst.colours[0] * (1 - t)[..., None] + inst.colours[1] * t[..., None]) * shade[..., None]
    return alpha, rgb


def _texture(kind: str, u: np.ndarray, v: np.ndarray, freq: float, angle: float, phase: float) -> np.ndarray:
    """Texture weight in [0, 1] in object coordinates (moves and scales with the object)."""
    a = 2 * np.pi * freq * (u * np.cos(angle) + v * np.sin(angle)) + phase
    b = 2 * np.pi * freq * (-u * np.sin(angle) + v * np.cos(angle)) + phase
    if kind == "stripes":
        return 0.5 + 0.5 * np.tanh(3 * np.sin(a))
    if kind == "checker":
        return 0.5 + 0.5 * np.tanh(3 * np.sin(a) * np.sin(b))
    if kind == "spots":
        return (np.sin(a) * np.sin(b) > 0.5).astype(np.float32)
    return np.clip(0.5 + 0.5 * v, 0, 1)  # smooth: a vertical gradient between the two colours
