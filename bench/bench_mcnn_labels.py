"""Speed of M-CNN's latent label inference (Sec. 3.2, energy (2)) against OpenCV's cv2.grabCut.

Both label the same frames, from the same motion segments, with the same number of graph
cuts (``--iterations``, 4 as M-CNN Sec. 4.2 and config ``mcnn.label_inference``):

- ``mcnn``: :func:`weakseg.methods.mcnn.label_inference.infer_labels` on the ``--frames``
  (10, Sec. 4.2) sampled frames of a shot at once: colour GMMs shared by the shot with
  temporal weights, Delta band around the motion boundary, one graph cut over all frames
  per iteration. Its parameters are config.yaml's ``mcnn.label_inference`` (alpha of the
  whole-dataset stage). The network's probabilities are uniform (0.5 background, 0.5 the
  video's label), so the network unary psi^fc is the same for both labels and drops out:
  what remains is the GrabCut-like part of energy (2).
- ``grabcut``: ``cv2.grabCut`` one frame at a time, ``GC_INIT_WITH_MASK`` with
  ``GC_PR_FGD`` inside the motion segment and ``GC_PR_BGD`` outside, ``iterCount`` =
  ``--iterations`` (OpenCV: each iteration re-fits the frame's GMMs and runs one graph cut).

The two minimise different energies, so their labelings differ; ``agreement_vs_grabcut`` (the
fraction of pixels both label alike) is information, not a target.

Frames: shots of a synthetic YouTube-Objects-like dataset (``--data``; by default
results/synthetic/data/syn_yto when built, else a small syn_yto generated from config.yaml
into a temporary folder). Motion segments are computed here as the pipeline's
``motion_fst`` product does (Farneback flow, FST with 4 iterations); shots are kept and
sampled as M-CNN's pruning does (:func:`weakseg.methods.mcnn.shots.valid_run`, a run of at
least ``--frames`` frames with motion foreground in [2.5 %, 50 %], ``--frames`` frames
sampled uniformly from it). Each ``--sizes`` entry rescales those frames (bilinear) and
segments (nearest): ``native`` keeps the dataset's size (72x96).

Seconds are the best (minimum) of ``--repeats`` timings of all shots, the two
implementations alternating; setup (loading, motion segments, resizing, colour conversion)
is not timed. ``--threads`` (1 by default) caps the thread pools of OpenMP / BLAS
(threadpoolctl: scikit-learn's k-means, numpy) and OpenCV for the whole run: cv2.grabCut
runs on one thread, and on a busy machine multi-threaded k-means on a few thousand
pixels is slower by orders of magnitude (spinning OpenMP workers); 0 leaves the libraries'
defaults. Columns in bench/README.md.

Usage (from the repository root)::

    python bench/bench_mcnn_labels.py                      # writes results/bench/mcnn_labels.csv
    python bench/bench_mcnn_labels.py --sizes native 144x192 240x320 480x640 --shots 2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import yaml
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))    # bench/common.py, also when imported by a test
from common import REPO, RESULTS_BENCH, write_csv  # noqa: E402

from weakseg.data.index import Dataset  # noqa: E402
from weakseg.methods.mcnn.label_inference import LabelInferenceParams, infer_labels  # noqa: E402
from weakseg.methods.mcnn.shots import sample_frames, valid_run  # noqa: E402
from weakseg.preprocess.flow import shot_flows  # noqa: E402
from weakseg.preprocess.motion import segment_shot  # noqa: E402

COLUMNS = ("frame_size", "shots", "frames", "iterations", "threads", "impl", "seconds", "fps", "ratio_vs_grabcut",
           "agreement_vs_grabcut", "agreement_vs_motion")
MOTION_FLOW = "farneback"   # config preprocess.products.motion_fst: flow flow_farneback, iterations 4
MOTION_ITERATIONS = 4
MIN_FG, MAX_FG = 0.025, 0.5  # M-CNN Sec. 4.2 pruning bounds (config mcnn.pruning)


@dataclass(frozen=True)
class Shot:
    """Sampled frames of one shot: RGB uint8 (T, H, W, 3), motion segments bool (T, H, W),
    frame numbers int (T,)."""

    name: str
    frames: np.ndarray
    motion: np.ndarray
    frame_numbers: np.ndarray


def load_shots(ds: Dataset, n_shots: int, n_frames: int) -> list[Shot]:
    """The first ``n_shots`` shots of ``ds`` (by shot id) with a valid motion run of ``n_frames``
    frames, each with ``n_frames`` frames sampled from its longest run (see the module docstring)."""
    rows = ds.items()
    rows = rows[rows["shot"].notna()].sort_values(["shot", "frame"], kind="stable")
    shots = []
    for name, shot in rows.groupby("shot", sort=True):
        if len(shot) < n_frames:
            continue
        frames = np.stack([ds.image(item) for item in shot["item"]])
        motion = segment_shot(frames, shot_flows(frames, MOTION_FLOW), iterations=MOTION_ITERATIONS)
        run = valid_run(motion.mean(axis=(1, 2)), n_frames, MIN_FG, MAX_FG)
        if run is None:
            continue
        pos = sample_frames(*run, n_frames)
        shots.append(Shot(str(name), frames[pos], motion[pos], shot["frame"].to_numpy()[pos]))
        if len(shots) == n_shots:
            return shots
    if not shots:
        raise ValueError(f"{ds.root}: no shot of >= {n_frames} frames has a motion run of {n_frames} frames "
                         f"with foreground in [{MIN_FG}, {MAX_FG}]; lower --frames or use another --data")
    print(f"only {len(shots)} of {n_shots} shots qualify in {ds.root}", file=sys.stderr)
    return shots


def resized(shot: Shot, size: tuple[int, int]) -> Shot:
    """``shot`` at ``size`` = (height, width): frames bilinear, motion segments nearest."""
    h, w = size
    if shot.frames.shape[1:3] == (h, w):
        return shot
    frames = np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_LINEAR) for f in shot.frames])
    motion = np.stack([cv2.resize(m.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
                       for m in shot.motion])
    return Shot(shot.name, frames, motion, shot.frame_numbers)


def mcnn_labeler(shot: Shot, params: LabelInferenceParams) -> Callable[[], np.ndarray]:
    """Energy (2) on the shot with uniform network probabilities; returns foreground bool (T, H, W)."""
    t, h, w = shot.motion.shape
    probs = np.full((t, 2, h, w), 0.5, np.float32)
    return lambda: infer_labels(shot.frames, shot.motion, probs, shot.frame_numbers, params) > 0


def grabcut_labeler(shot: Shot, iterations: int) -> Callable[[], np.ndarray]:
    """cv2.grabCut frame by frame from the motion segments; returns foreground bool (T, H, W)."""
    bgr = [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in shot.frames]

    def run() -> np.ndarray:
        out = []
        for image, motion in zip(bgr, shot.motion):
            mask = np.where(motion, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
            bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
            cv2.grabCut(image, mask, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
            out.append((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD))
        return np.stack(out)

    return run


def parse_size(text: str) -> str | tuple[int, int]:
    """``native`` or ``HxW`` (e.g. ``240x320``) -> ``"native"`` or (height, width)."""
    if text == "native":
        return text
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size {text!r} is neither 'native' nor HxW (e.g. 240x320)") from None
    if h < 8 or w < 8:
        raise argparse.ArgumentTypeError(f"size {text!r}: height and width must be >= 8")
    return h, w


def label_params(iterations: int | None) -> LabelInferenceParams:
    """config.yaml's ``mcnn.label_inference`` (alpha of the whole-dataset stage), ``iterations``
    overriding its value when given."""
    cfg = dict(yaml.safe_load((REPO / "config.yaml").read_text())["mcnn"]["label_inference"])
    cfg.pop("alpha_finetune")
    if iterations is not None:
        cfg["iterations"] = iterations
    return LabelInferenceParams(**cfg)


def small_syn_yto(root: Path) -> Dataset:
    """A small syn_yto (config.yaml's knobs, 1 train video per class) generated into ``root``."""
    from weakseg.data.synthetic import generate

    synthetic = yaml.safe_load((REPO / "config.yaml").read_text())["synthetic"]
    synthetic["datasets"]["syn_yto"]["videos_per_class"] = {"train": 1}
    generate("syn_yto", synthetic, root)
    return Dataset(root)


def bench_size(shots: Sequence[Shot], size: str | tuple[int, int], params: LabelInferenceParams,
               repeats: int, threads: int) -> list[dict]:
    """The two rows (grabcut, mcnn) of one frame size (``threads`` only goes into the rows)."""
    h, w = shots[0].frames.shape[1:3] if size == "native" else size
    shots = [resized(s, (h, w)) for s in shots]
    labelers = {"grabcut": [grabcut_labeler(s, params.iterations) for s in shots],
                "mcnn": [mcnn_labeler(s, params) for s in shots]}
    best = {impl: np.inf for impl in labelers}
    labels: dict[str, np.ndarray] = {}
    for _ in range(repeats):
        for impl, runs in labelers.items():
            start = time.perf_counter()
            out = [run() for run in runs]
            best[impl] = min(best[impl], time.perf_counter() - start)
            labels.setdefault(impl, np.concatenate(out))
    motion = np.concatenate([s.motion for s in shots])
    frames = len(motion)
    return [{"frame_size": f"{h}x{w}", "shots": len(shots), "frames": frames, "iterations": params.iterations,
             "threads": threads, "impl": impl, "seconds": round(best[impl], 4), "fps": round(frames / best[impl], 3),
             "ratio_vs_grabcut": round(best["grabcut"] / best[impl], 4),
             "agreement_vs_grabcut": round(float((labels[impl] == labels["grabcut"]).mean()), 4),
             "agreement_vs_motion": round(float((labels[impl] == motion).mean()), 4)}
            for impl in labelers]


@contextmanager
def thread_limit(threads: int) -> Iterator[None]:
    """At most ``threads`` threads in OpenMP / BLAS pools and OpenCV inside the block (0: no limit)."""
    if not threads:
        yield
        return
    before = cv2.getNumThreads()
    cv2.setNumThreads(threads)
    try:
        with threadpool_limits(threads):
            yield
    finally:
        cv2.setNumThreads(before)



def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path,
                    help="a canonical syn_yto-like video dataset (default: results/synthetic/data/syn_yto "
                         "when built, else a small one generated into a temporary folder)")
    ap.add_argument("--sizes", type=parse_size, nargs="+", default=["native", (240, 320)],
                    help="frame sizes: native and/or HxW (default: native 240x320)")
    ap.add_argument("--shots", type=int, default=4, help="shots to label (default: 4)")
    ap.add_argument("--frames", type=int, default=10, help="frames per shot (default: 10, M-CNN Sec. 4.2)")
    ap.add_argument("--iterations", type=int,
                    help="graph cuts per shot / frame (default: config mcnn.label_inference.iterations)")
    ap.add_argument("--repeats", type=int, default=3, help="timings per implementation; the best counts")
    ap.add_argument("--threads", type=int, default=1,
                    help="threads of OpenMP/BLAS and OpenCV while timing (default: 1; 0: library defaults)")
    ap.add_argument("--out", type=Path, default=RESULTS_BENCH / "mcnn_labels.csv", help="CSV to write")
    args = ap.parse_args(argv)
    for key in ("shots", "frames", "repeats", "iterations"):
        if getattr(args, key) is not None and getattr(args, key) < 1:
            ap.error(f"--{key} must be >= 1")
    if args.threads < 0:
        ap.error("--threads must be >= 0")
    return args


def run_bench(args: argparse.Namespace) -> pd.DataFrame:
    """Load the shots, time both implementations at every size; writes and returns the table."""
    params = label_params(args.iterations)
    default = REPO / "results" / "synthetic" / "data" / "syn_yto"
    with tempfile.TemporaryDirectory(prefix="bench_mcnn_") as tmp, thread_limit(args.threads):
        if args.data is not None:
            ds = Dataset(args.data)
        elif (default / "index.parquet").is_file():
            ds = Dataset(default)
        else:
            ds = small_syn_yto(Path(tmp) / "syn_yto")
        shots = load_shots(ds, args.shots, args.frames)
        rows = [row for size in args.sizes for row in bench_size(shots, size, params, args.repeats, args.threads)]
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    write_csv(df, args.out)
    return df


def main(argv: Sequence[str] | None = None) -> None:
    df = run_bench(parse_args(argv))
    print(df.to_string(index=False))


if __name__ == "__main__":
    main()
