"""Forward + backward time and accuracy of CoLo-CAM's CRF losses: exact O(N^2), our O(N) grid, pydensecrf's lattice.

Kernels (Belharbi et al.): ``coloc`` -- the CoLoc term, Sec. 3.2 eq. 4, colour-only over the pixels of n
frames pooled (``weakseg.crf.multi_frame_colour_crf_loss``); ``crf`` -- the per-frame dense CRF loss,
Sec. 3.1 eq. 2, position + colour (``weakseg.crf.dense_crf_loss``), on a batch of ``n_frames`` frames.
Implementations, on the same input in one run (they alternate; best of ``--repeats``):

- ``exact``: weakseg.crf, every pixel pair (run only up to ``--exact-max-pairs`` pixel pairs: ~2-12 CPU-s
  per 224 x 224 frame, 4x that for the CoLoc term of 2 frames);
- ``grid``: weakseg.crf_fast (weakseg.lattice: quadratic B-spline grid, second-order moments; splat and slice
  compiled with numba on the CPU, weakseg.lattice_kernels);
- ``pydensecrf``: the C++ permutohedral lattice of Kraehenbuehl's dense CRF code (the filter the authors'
  and Tang et al.'s code use) through the ``pydensecrf2`` package, with no normalisation, as a peer. Its
  Python API does not return the filtered values, so one mean-field step is run with a zero-mean
  unary and a dummy label (:func:`peer_product`) and ``W S`` is read back from the new marginals; its time
  includes its own lattice construction, which also filters a signal of ones once (``initLattice``).
  Loss and gradient are built from ``W S`` as in Tang et al.'s code (``-sum S * WS``, gradient ``-2 WS``).

Frames: a synthetic shot (:func:`shot`): a smooth two-colour background, six soft-edged discs of fixed
colours moving across the frames, Gaussian noise (sd 4), float32 RGB in 0..255; maps: smooth softmax
maps (K = 2). Sizes ``--sizes``: 224 x 224 (the paper's, Sec. 4.1) and 18 x 24 (config
``colocam.loss.resolution``, where the pipeline computes the losses). Parameters: sigma_rgb = config
``colocam.loss.coloc_sigma_rgb`` (eq. 4); eq. 2's ``colocam.loss.crf`` (sigma_xy 100, sigma_rgb 15, weight
2e-9 at 224 x 224, the paper's values) scaled to the size as the pipeline does
(``weakseg.methods.colocam.loss_scaling.crf_at_resolution``).

Columns: ``kernel``, ``n_frames``, ``height``, ``width``, ``impl``, ``threads`` (``--threads``: torch intra-op
threads; on a busy machine 2 threads can be many times slower than 1, every parallel op waiting for a
descheduled thread), ``seconds_fwd_bwd`` (best of the repeats), ``rel_err_vs_exact`` (|value - exact| / |exact|), ``rel_err_grad_vs_exact``
(||grad - exact grad|| / ||exact grad||), both where the exact one ran, ``speedup`` (exact seconds / these
seconds, where the exact one ran), ``speedup_vs_peer`` (pydensecrf seconds / these), ``notes``; then the
machine columns of bench/README.md. The target of issue #11: CoLoc, n = 64 frames of 224 x 224, forward +
backward under 81 ms (the paper's Sec. 4.3 d figure, on 48 cores and a GPU) on this 2-core CPU.

Usage (from the repository root)::

    python bench/bench_crf.py                        # -> results/bench/crf.csv (~5-15 min: the exact runs)
    python bench/bench_crf.py --threads 1 2          # both thread counts in one CSV
    python bench/bench_crf.py --frames 2 4 --crf-batches 1 --sizes 32x48 --out /tmp/crf.csv   # seconds
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/common.py, also when imported by a test
from common import REPO, RESULTS_BENCH, write_csv  # noqa: E402

from weakseg.crf import dense_crf_loss, multi_frame_colour_crf_loss
from weakseg.crf_fast import dense_crf_loss_fast, multi_frame_colour_crf_loss_fast
from weakseg.methods.colocam.loss_scaling import crf_at_resolution

PEER_SPREAD = 20.0  # pydensecrf read-back: label-energy range of w * W S (<= 20 since W S <= N), and the dummy's
LossFn = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]  # probs -> (value, d value / d probs)


def shot(n: int, height: int, width: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A synthetic shot: float32 frames (n, 3, H, W) in 0..255 and softmax maps (n, 2, H, W) (module docstring)."""
    g = torch.Generator().manual_seed(seed)
    rows = torch.linspace(0, 1, height).view(1, height, 1)
    cols = torch.linspace(0, 1, width).view(1, 1, width)
    t = torch.linspace(0, 1, n).view(n, 1, 1)
    colours = torch.rand(8, 3, 1, 1, 1, generator=g) * 255
    slope = torch.rand(2, generator=g)
    blend = (slope[0] * rows + slope[1] * cols) / (slope.sum() + 1e-6)  # (1, H, W) in [0, 1]
    frames = (colours[0] * (1 - blend) + colours[1] * blend).expand(3, n, height, width).clone()
    for disc in range(6):
        start, velocity = torch.rand(2, generator=g), (torch.rand(2, generator=g) - 0.5) * 0.4
        radius = 0.08 + 0.15 * float(torch.rand(1, generator=g))
        centre_y, centre_x = start[0] + velocity[0] * t, start[1] + velocity[1] * t  # (n, 1, 1)
        distance = ((rows - centre_y) ** 2 + (cols - centre_x) ** 2).sqrt()
        inside = torch.sigmoid((radius - distance) * min(height, width) / 1.5)  # (n, H, W), ~1.5-pixel edge
        frames = frames * (1 - inside) + colours[2 + disc] * inside
    frames = frames.permute(1, 0, 2, 3) + 4 * torch.randn(n, 3, height, width, generator=g)
    logits = 3 * torch.randn(n, 2, max(1, height // 16), max(1, width // 16), generator=g)
    probs = torch.softmax(torch.nn.functional.interpolate(logits, size=(height, width), mode="bilinear"), dim=1)
    return frames.clamp(0, 255).contiguous(), probs


def autograd_loss(loss: Callable[[torch.Tensor], torch.Tensor]) -> LossFn:
    """A weakseg loss as a timed forward + backward: (value, gradient) at fresh leaf probs."""
    def run(probs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        leaf = probs.detach().clone().requires_grad_()
        value = loss(leaf)
        value.backward()
        return value.detach(), leaf.grad
    return run


def peer_product(features: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``W S`` by pydensecrf's permutohedral lattice (no normalisation): features float32 (D, N) in kernel units,
    values float32 (K, N) summing to 1 over K (softmax maps) -> float32 (K, N).

    One mean-field step (``DenseCRF.stepInference``) with K + 1 labels: unaries ``-log S_k`` and a dummy
    label's constant ``u_d``, so the initial marginals are ``Q0 ~ (S, e^-u_d)``, and a Potts pairwise term of
    weight w: ``log Q1_k - log Q1_d = log S_k + w (W Q0)_k + u_d - w (W Q0)_d``. The dummy's ``w W Q0_d``
    is below ``w N e^-u_d ~ 4e-8`` and w keeps ``w W S <= 20``, so every marginal stays in float32's range.
    """
    import pydensecrf.densecrf as dcrf

    k, n = values.shape
    weight = PEER_SPREAD / n
    unary = np.empty((k + 1, n), np.float32)
    unary[:k] = -np.log(np.maximum(values, 1e-30))
    unary[k] = PEER_SPREAD
    crf = dcrf.DenseCRF(n, k + 1)
    crf.setUnaryEnergy(unary)
    crf.addPairwiseEnergy(np.ascontiguousarray(features, np.float32), compat=weight, kernel=dcrf.DIAG_KERNEL,
                          normalization=dcrf.NO_NORMALIZATION)
    marginals, tmp1, tmp2 = crf.startInference()
    crf.stepInference(marginals, tmp1, tmp2)
    log_q = np.log(np.array(marginals))
    return (log_q[:k] - log_q[k] + unary[:k] - unary[k]) / weight


def peer_coloc(images: torch.Tensor, sigma_rgb: float) -> LossFn:
    """eq. 4 with pydensecrf's lattice: value ``-sum S * WS`` and gradient ``-2 WS`` over the pooled frames."""
    def run(probs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k = probs.shape[1]
        values = probs.permute(1, 0, 2, 3).reshape(k, -1).numpy()
        features = images.permute(1, 0, 2, 3).reshape(3, -1).numpy() / sigma_rgb
        ws = torch.from_numpy(peer_product(features, values))
        grad = (-2.0 * ws).reshape(k, *probs.shape[:1], *probs.shape[2:]).permute(1, 0, 2, 3)
        return -(torch.from_numpy(values) * ws).sum(dtype=torch.float64), grad
    return run


def peer_crf(images: torch.Tensor, sigma_xy: float, sigma_rgb: float, weight: float) -> LossFn:
    """eq. 2 with pydensecrf's lattice, one frame at a time: ``-weight sum_b sum S_b * W_b S_b / B``."""
    def run(probs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, k, h, w = probs.shape
        rows, cols = np.mgrid[0:h, 0:w].astype(np.float32) / sigma_xy
        value, grads = 0.0, []
        for frame in range(b):
            features = np.concatenate([cols.reshape(1, -1), rows.reshape(1, -1),
                                       images[frame].reshape(3, -1).numpy() / sigma_rgb])
            values = probs[frame].reshape(k, -1).numpy()
            ws = peer_product(features, values)
            value += float((values.astype(np.float64) * ws).sum())
            grads.append(torch.from_numpy(ws).reshape(k, h, w))
        scale = weight / b
        return torch.tensor(-scale * value), -2.0 * scale * torch.stack(grads)
    return run


def timed(run: LossFn, probs: torch.Tensor) -> tuple[float, torch.Tensor, torch.Tensor]:
    """Wall time of one forward + backward pass, its value and gradient."""
    start = time.perf_counter()
    value, grad = run(probs)
    return time.perf_counter() - start, value, grad


def bench_case(kernel: str, n: int, height: int, width: int, impls: dict[str, LossFn], probs: torch.Tensor,
               args: argparse.Namespace, peer_note: str) -> list[dict]:
    """Time every implementation of one (kernel, n, H, W) case, alternating; one row per implementation."""
    pairs = (n * height * width) ** 2 if kernel == "coloc" else n * (height * width) ** 2
    names = [name for name in impls if name != "exact" or pairs <= args.exact_max_pairs]
    results: dict[str, tuple[float, torch.Tensor, torch.Tensor]] = {}
    for _ in range(args.repeats):  # rounds alternate the implementations; the best round counts
        for name in names:
            if name == "exact" and name in results:
                continue  # the exact sum takes seconds to minutes: one timing is enough
            seconds, value, grad = timed(impls[name], probs)
            if name not in results or seconds < results[name][0]:
                results[name] = (seconds, value, grad)
    rows = []
    exact = results.get("exact")
    for name in impls:
        row = {"kernel": kernel, "n_frames": n, "height": height, "width": width, "impl": name,
               "threads": torch.get_num_threads(), "seconds_fwd_bwd": math.nan, "rel_err_vs_exact": math.nan,
               "rel_err_grad_vs_exact": math.nan, "speedup": math.nan, "speedup_vs_peer": math.nan, "notes": ""}
        if name not in results:
            row["notes"] = (f"not run: {pairs:.2e} pixel pairs > --exact-max-pairs {args.exact_max_pairs:.2e}"
                            if name == "exact" else peer_note)
            rows.append(row)
            continue
        seconds, value, grad = results[name]
        row["seconds_fwd_bwd"] = seconds
        if name == "pydensecrf":
            row["notes"] = peer_note
        if exact is not None:
            row["rel_err_vs_exact"] = abs(float(value) - float(exact[1])) / abs(float(exact[1]))
            row["rel_err_grad_vs_exact"] = float((grad.double() - exact[2].double()).norm() / exact[2].double().norm())
            row["speedup"] = exact[0] / seconds
        if "pydensecrf" in results:
            row["speedup_vs_peer"] = results["pydensecrf"][0] / seconds
        rows.append(row)
        print(f"{kernel} n={n} {height}x{width} {name} ({row['threads']} threads): {seconds:.3f} s, "
              f"rel err {row['rel_err_vs_exact']:.2e}", flush=True)
    return rows


def peer_available() -> str:
    """'' when pydensecrf imports, else the reason (written to the notes column)."""
    try:
        import pydensecrf.densecrf  # noqa: F401
    except ImportError as error:
        return f"pydensecrf not available ({error}); pip install pydensecrf2 (builds from its sdist)"
    return ""


def run_bench(args: argparse.Namespace) -> pd.DataFrame:
    loss_cfg = yaml.safe_load((REPO / "config.yaml").read_text())["colocam"]["loss"]
    sigma_rgb = float(loss_cfg["coloc_sigma_rgb"])
    missing = peer_available()
    peer_note = missing or "pydensecrf2: C++ permutohedral lattice, no normalisation, W S read back (peer_product)"
    rows: list[dict] = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        for height, width in args.sizes:
            for n in args.frames:
                images, probs = shot(n, height, width, seed=args.seed + n)
                impls = {"exact": autograd_loss(lambda p: multi_frame_colour_crf_loss(p, images, sigma_rgb)),
                         "grid": autograd_loss(lambda p: multi_frame_colour_crf_loss_fast(p, images, sigma_rgb))}
                if not missing:
                    impls["pydensecrf"] = peer_coloc(images, sigma_rgb)
                rows += bench_case("coloc", n, height, width, impls, probs, args, peer_note)
            # eq. 2's parameters as the pipeline scales them to this size (the paper's at 224 x 224)
            params = crf_at_resolution({**loss_cfg, "resolution": [height, width]})
            for b in args.crf_batches:
                images, probs = shot(b, height, width, seed=args.seed + 1000 + b)
                impls = {"exact": autograd_loss(lambda p: dense_crf_loss(p, images, *params)),
                         "grid": autograd_loss(lambda p: dense_crf_loss_fast(p, images, *params))}
                if not missing:
                    impls["pydensecrf"] = peer_crf(images, *params)
                rows += bench_case("crf", b, height, width, impls, probs, args, peer_note)
    return pd.DataFrame(rows)


def parse_size(text: str) -> tuple[int, int]:
    """'HxW' -> (H, W)."""
    try:
        height, width = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be HxW (e.g. 224x224), got {text!r}") from None
    return height, width


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[2, 4, 8, 16, 32, 64],
                        help="n of the CoLoc term (frames pooled)")
    parser.add_argument("--crf-batches", type=int, nargs="*", default=[1, 4], help="frames of the per-frame CRF")
    parser.add_argument("--sizes", type=parse_size, nargs="+", default=[(224, 224), (18, 24)], metavar="HxW",
                        help="frame sizes (224x224: the paper's; 18x24: config colocam.loss.resolution)")
    parser.add_argument("--exact-max-pairs", type=float, default=1.1e10,
                        help="run the exact O(N^2) loss only up to this many pixel pairs (default: 2 frames of 224^2)")
    parser.add_argument("--repeats", type=int, default=3, help="timings per implementation (best kept); exact: 1")
    parser.add_argument("--threads", type=int, nargs="+", default=[2],
                        help="torch.set_num_threads, one pass over every case per value")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS_BENCH / "crf.csv")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    df = run_bench(args)
    write_csv(df, args.out)
    print(df.to_string(index=False), file=sys.stderr)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
