"""YouTube-Objects-like synthetic videos.

Per class, videos split into train/val/test *by video*. A video has one object
instance (its class is the video's weak label) over a per-video background canvas
larger than the frame, and several shots. Per shot, independently:

- object motion or none (``object_motion_rate``): a constant velocity that bounces at
  the frame border, with rare far jumps between consecutive frames (``jump_rate``);
- camera motion or none (``camera_motion_rate``): the crop window pans over the canvas;
- an absent run (``absent_shot_rate``): consecutive frames where the object is gone.

Boxes are annotated every ``box_every`` frames of every video (an annotated frame
where the object is absent has an empty box list), masks every ``mask_every`` frames
of a fraction ``mask_video_rate`` of the videos.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from weakseg.data.synthetic.appearance import ClassAppearance, sample_instance
from weakseg.data.synthetic.scene import (
    BackgroundStyle,
    composite,
    render_background,
    tight_box,
)
from weakseg.data.writer import DatasetWriter
from weakseg.progress import progress


@dataclass(frozen=True)
class VideoSpec:
    """Knobs of a video dataset (config: ``synthetic.datasets.<name>`` with ``kind: video``)."""

    classes: tuple[str, ...]
    size: tuple[int, int]                  # (height, width) of a frame
    videos_per_class: dict[str, int]       # split -> number of videos per class
    shots_per_video: tuple[int, int]
    frames_per_shot: tuple[int, int]       # inclusive; real shots shorter than 20 frames exist (M-CNN Sec. 4.2)
    object_size: tuple[float, float]       # object half height as a fraction of the frame height
    object_motion_rate: float
    speed: tuple[float, float]             # pixels per frame of a moving object
    jump_rate: float
    camera_motion_rate: float
    camera_speed: tuple[float, float]
    absent_shot_rate: float
    box_every: int
    mask_every: int
    mask_video_rate: float
    colour_jitter: float


def generate_videos(spec: VideoSpec, appearances: dict[str, ClassAppearance], pool: np.ndarray,
                    style: BackgroundStyle, rng: np.random.Generator, writer: DatasetWriter) -> None:
    """Render every video of ``spec`` into ``writer``."""
    jobs = [(c, split, i) for c in spec.classes for split, n in spec.videos_per_class.items() for i in range(n)]
    for number, (cls, split, _) in enumerate(progress(jobs, desc="videos", unit="video")):
        video = f"{cls}{number:03d}"
        _render_video(spec, appearances[cls], pool, style, rng, writer, video, cls, split)


def _render_video(spec: VideoSpec, app: ClassAppearance, pool: np.ndarray, style: BackgroundStyle,
                  rng: np.random.Generator, writer: DatasetWriter, video: str, cls: str, split: str) -> None:
    h, w = spec.size
    pad = w // 2
    canvas = render_background(rng, h + 2 * pad, w + 2 * pad, pool, app.colours, style)
    radius0 = rng.uniform(*spec.object_size) * h
    instance = sample_instance(rng, app, w / 2, h / 2, radius0, flip=bool(rng.random() < 0.5),
                               colour_jitter=spec.colour_jitter)
    with_masks = rng.random() < spec.mask_video_rate
    for s in range(rng.integers(spec.shots_per_video[0], spec.shots_per_video[1] + 1)):
        length = int(rng.integers(spec.frames_per_shot[0], spec.frames_per_shot[1] + 1))
        pos = np.array([rng.uniform(0.25, 0.75) * w, rng.uniform(0.3, 0.7) * h])
        vel = _velocity(rng, spec.speed) if rng.random() < spec.object_motion_rate else np.zeros(2)
        cam = np.array([rng.uniform(0, 2 * pad), rng.uniform(0, 2 * pad)])
        cam_vel = _velocity(rng, spec.camera_speed) if rng.random() < spec.camera_motion_rate else np.zeros(2)
        absent = np.zeros(length, bool)
        if rng.random() < spec.absent_shot_rate:
            run = max(1, int(length * rng.uniform(0.2, 0.4)))
            start = int(rng.integers(0, length - run + 1))
            absent[start:start + run] = True
        scale_wobble = rng.uniform(0, 0.1)
        for t in range(length):
            if t and rng.random() < spec.jump_rate:
                pos = np.array([rng.uniform(0.15, 0.85) * w, rng.uniform(0.2, 0.8) * h])
            pos, vel = _bounce(pos + vel, vel, w, h)
            cam, cam_vel = _bounce(cam + cam_vel, cam_vel, 2 * pad, 2 * pad)
            x0, y0 = int(round(cam[0])), int(round(cam[1]))
            background = canvas[y0:y0 + h, x0:x0 + w]
            instance.cx, instance.cy = float(pos[0]), float(pos[1])
            instance.radius = radius0 * (1 + scale_wobble * np.sin(0.3 * t))
            shown = [] if absent[t] else [instance]
            comp = composite(rng, background, shown, style.noise)
            visible = comp.visible[0] if shown else np.zeros((h, w), bool)
            box = tight_box(visible)
            annotated = t % spec.box_every == 0
            mask = visible.astype(np.uint8) if with_masks and t % spec.mask_every == 0 else None
            writer.add(
                item=f"{video}/s{s:02d}/{t:04d}", split=split, image=comp.image, labels=[cls], cls=cls,
                video=video, shot=f"{video}/s{s:02d}", frame=t, has_object=box is not None,
                box_annotated=annotated, boxes=[box] if annotated and box else [],
                box_labels=[cls] if annotated and box else [], mask=mask,
            )


def _velocity(rng: np.random.Generator, speed: tuple[float, float]) -> np.ndarray:
    angle = rng.uniform(0, 2 * np.pi)
    return rng.uniform(*speed) * np.array([np.cos(angle), np.sin(angle)])


def _bounce(pos: np.ndarray, vel: np.ndarray, w: float, h: float) -> tuple[np.ndarray, np.ndarray]:
    """Reflect a position (and its velocity) back into [0, w] x [0, h]."""
    pos, vel = pos.copy(), vel.copy()
    for d, hi in ((0, w), (1, h)):
        if pos[d] < 0 or pos[d] > hi:
            vel[d] = -vel[d]
            pos[d] = np.clip(pos[d], 0, hi)
    return pos, vel
