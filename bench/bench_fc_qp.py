"""Foreground Clustering's relaxed QP (Sharma, Sec. 4.1, Eqs. 7-11): cvxpy + Clarabel, cvxpy + OSQP
and the structured solver (weakseg.methods.fc.structured_solver), timed in one run.

Instances:

- ``synthetic``: the QPs the pipeline solves on the synthetic datasets (``--synthetic``, those
  built under ``--results``), captured from ``weakseg.methods.fc.run.solve_groups_of_units``
  itself (its ``solve`` is wrapped to record each instance), with config.yaml's ``fc``
  products, params, variants and video splits; per dataset and variant, the largest group.
- ``scaled``: ``--frames`` frames of ``--superpixels`` grid superpixels (a rows x cols grid of
  6-pixel cells, rows = round(sqrt(N / 2))) and ``--boxes`` boxes each, assembled by
  ``weakseg.methods.fc.assemble.assemble`` (the pipeline's objective and weights, config
  ``fc.params``) from generated inputs shaped like the real ones: one object rectangle per
  frame whose superpixels share a colour, visual words and saliency; the first box jitters
  around the object, the others are random rectangles; membership by the pipeline's
  ``box_membership``; RGB histograms with ``sp_quickshift.hist_bins`` bins per channel,
  bags of ``dsift_quickshift.words`` words, ``--feature-dim`` box features (320: the
  efficientnet_lite0 RoI features of the stored ``features_ss30`` product).

Each solver's time is the wall time of the call the pipeline makes (cvxpy: building the
problem, compiling and solving, ``weakseg.methods.fc.problem.solve``; structured:
``solve_structured``), best of ``--repeats``. BLAS threads are capped (``--threads``, default
1: Clarabel and OSQP are single-threaded, and two OpenBLAS threads on a busy 2-core machine
were measured 100x slower). OSQP runs at ``--osqp-eps`` (absolute = relative; 1e-6 reaches
the 1e-4 gap, 1e-5 did not on a 10-frame instance); its signed gap is reported.

Columns (one row per instance and solver; machine columns appended, bench/common.py):
``instance``, ``frames``, ``n_y``, ``n_z``, ``solver``, ``seconds``, ``objective``,
``rel_gap_vs_clarabel`` ((objective - Clarabel's) / |Clarabel's|, signed), ``speedup_vs_clarabel``
and ``speedup_vs_osqp`` (their seconds / this row's), ``variant``, ``max_violation`` (largest
violation of a constraint of problem.py's docstring at the returned point, unscaled rows),
``ipm_iterations`` and ``cg_iterations`` (structured solver only).

Usage (from the repository root)::

    python bench/bench_fc_qp.py                                    # -> results/bench/fc_qp.csv
    python bench/bench_fc_qp.py --frames 5 10 20 --variants full --synthetic
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import yaml
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))    # bench/common.py, also when imported by a test
from common import REPO, RESULTS_BENCH, write_csv  # noqa: E402

from weakseg.data.index import Dataset  # noqa: E402
from weakseg.methods.fc import run  # noqa: E402
from weakseg.methods.fc.assemble import assemble  # noqa: E402
from weakseg.methods.fc.frames import FrameInputs, box_membership  # noqa: E402
from weakseg.methods.fc.problem import QPInstance, Solution, constraint_matrices, frame_slices, solve  # noqa: E402
from weakseg.methods.fc.structured_solver import solve_structured  # noqa: E402
from weakseg.methods.fc.targets import solve_groups  # noqa: E402
from weakseg.methods.fc.variants import variant  # noqa: E402
from weakseg.preprocess.store import load_unit  # noqa: E402

COLUMNS = ("instance", "frames", "n_y", "n_z", "solver", "seconds", "objective", "rel_gap_vs_clarabel",
           "speedup_vs_clarabel", "speedup_vs_osqp", "variant", "max_violation", "ipm_iterations", "cg_iterations")
SOLVERS = ("CLARABEL", "OSQP", "STRUCTURED")
SYNTHETIC = ("syn_yto", "syn_object_discovery", "syn_pascal07_6x2")
CELL = 6                       # pixels per side of a generated superpixel
PRODUCT_KEYS = ("superpixels", "boxes", "saliency", "dsift")


# ---------------------------------------------------------------- instances


def scaled_frame(rng: np.random.Generator, n_superpixels: int, n_boxes: int, words: int, bins: int,
                 feature_dim: int) -> FrameInputs:
    """One generated key frame (module docstring): grid superpixels, one object, boxes, features."""
    rows = max(1, round(math.sqrt(n_superpixels / 2)))
    cols = math.ceil(n_superpixels / rows)
    n = rows * cols
    height, width = rows * CELL, cols * CELL
    labels = np.repeat(np.repeat(np.arange(n).reshape(rows, cols), CELL, 0), CELL, 1).astype(np.int32)
    r, c = np.divmod(np.arange(n), cols)
    centroids = np.stack([(c + 0.5) * CELL, (r + 0.5) * CELL], axis=1).astype(np.float32)
    ow, oh = rng.uniform(0.3, 0.6) * width, rng.uniform(0.3, 0.6) * height
    ox, oy = rng.uniform(0, width - ow), rng.uniform(0, height - oh)
    obj = np.array([ox, oy, ox + ow, oy + oh])
    fg = (centroids[:, 0] > ox) & (centroids[:, 0] < ox + ow) & (centroids[:, 1] > oy) & (centroids[:, 1] < oy + oh)
    colours = np.where(fg[:, None], rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)) + rng.normal(0, 25, (n, 3))
    colours = np.clip(colours, 0, 255).astype(np.float32)
    pixels = np.clip(colours[:, None, :] + rng.normal(0, 20, (n, CELL * CELL, 3)), 0, 255)
    b = (pixels * bins / 256).astype(np.int64)
    codes = b[..., 0] * bins * bins + b[..., 1] * bins + b[..., 2]
    histograms = np.stack([np.bincount(code, minlength=bins ** 3) for code in codes]).astype(np.int32)
    p_fg, p_bg = rng.dirichlet(np.full(words, 0.1)), rng.dirichlet(np.full(words, 0.3))
    bow = np.array([rng.multinomial(rng.integers(2, 10), p_fg if f else p_bg) for f in fg], dtype=np.float64)
    bow /= bow.sum(axis=1, keepdims=True)
    boxes = [obj + rng.normal(0, 3, 4)]
    while len(boxes) < n_boxes:
        bw, bh = rng.uniform(0.15, 1) * width, rng.uniform(0.15, 1) * height
        x0, y0 = rng.uniform(0, width - bw), rng.uniform(0, height - bh)
        boxes.append([x0, y0, x0 + bw, y0 + bh])
    boxes = np.clip(np.array(boxes), 0, [width, height, width, height]).astype(np.float32)
    membership = box_membership(labels, boxes, 0.5)
    saliency = np.clip(np.where(fg, 0.8, 0.2) + rng.normal(0, 0.1, n), 0, 1).astype(np.float32)
    box_saliency = np.array([saliency[m].mean() if m.any() else 0.0 for m in membership], np.float32)
    shared = np.abs(rng.normal(size=feature_dim))
    overlap = membership[:, fg].sum(axis=1) / max(int(fg.sum()), 1)
    features = np.abs(rng.normal(size=(n_boxes, feature_dim))) + 3 * overlap[:, None] * shared
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    return FrameInputs(item="generated", labels=labels, centroids=centroids, colours=colours, histograms=histograms,
                       bow=bow.astype(np.float32), sp_saliency=saliency, boxes=boxes, box_saliency=box_saliency,
                       box_features=features.astype(np.float32), membership=membership)


def scaled_instance(config: dict, variant_name: str, n_frames: int, n_superpixels: int, n_boxes: int,
                    feature_dim: int, seed: int) -> QPInstance:
    """The QP of ``variant_name`` over ``n_frames`` generated frames of one shot (module docstring)."""
    products = config["preprocess"]["products"]
    words, bins = products["dsift_quickshift"]["words"], products["sp_quickshift"]["hist_bins"]
    rng = np.random.default_rng(seed)
    frames = [scaled_frame(rng, n_superpixels, n_boxes, words, bins, feature_dim) for _ in range(n_frames)]
    v = variant(variant_name, config["fc"]["variants"][variant_name])
    return assemble(frames, v, config["fc"]["params"], ["shot"] * n_frames)


def synthetic_instances(results: Path, dataset: str, variant_names: Sequence[str],
                        config: dict) -> Iterator[tuple[str, QPInstance]]:
    """(name, instance) of the largest group per variant, as the pipeline builds it (module docstring)."""
    fc = config["fc"]
    used = fc["products"]["synthetic"]
    data = results / "data" / dataset
    info = json.loads((data / "units.json").read_text())
    features = load_unit(results / "features" / dataset / f"{used['features']}.npz")
    for name in variant_names:
        v = variant(name, fc["variants"][name])
        groups = solve_groups(info, v, fc["video_splits"])
        units = sorted({u for us in groups.values() for u in us})
        products = {key: {u: load_unit(results / "pre" / dataset / u / f"{used[key]}.npz") for u in units}
                    for key in PRODUCT_KEYS}
        captured: list[QPInstance] = []

        def record(instance: QPInstance, solver: str) -> Solution:
            captured.append(instance)
            return solve_structured(instance)[0]

        with mock.patch.object(run, "solve", record):
            run.solve_groups_of_units(Dataset(data), groups, products, features, v, fc["params"])
        largest = max(range(len(captured)), key=lambda i: captured[i].n_y + captured[i].n_z)
        yield f"{dataset}/{name}/{list(groups)[largest]}", captured[largest]


# ---------------------------------------------------------------- measuring


def max_violation(inst: QPInstance, y: np.ndarray | None, z: np.ndarray | None) -> float:
    """Largest violation of the constraints of problem.py's docstring at (y, z) (0 if feasible)."""
    worst = 0.0
    for frame, (ys, zs) in zip(inst.frames, frame_slices(inst)):
        parts: list[np.ndarray] = []
        if inst.has_z:
            zf = z[zs]
            parts += [-zf, zf - 1, np.array([abs(zf.sum() - 1)])]
        if inst.has_y:
            yf = y[ys]
            parts += [-yf, yf - (frame.membership.any(axis=0) if inst.coupled else 1.0)]
        if inst.coupled:
            a_y, a_z = constraint_matrices(frame, inst.gamma, inst.eta)
            parts.append(a_y @ yf + a_z @ zf)
        elif inst.has_y:
            n = frame.n_superpixels
            parts.append(np.array([inst.gamma * n - yf.sum(), yf.sum() - inst.eta * n]))
        worst = max(worst, *(float(p.max()) for p in parts))
    return worst


def run_solver(inst: QPInstance, solver: str, osqp_eps: float) -> tuple[float, Solution, dict]:
    """(seconds, solution, extra columns) of one solve."""
    start = time.perf_counter()
    if solver == "STRUCTURED":
        solution, stats = solve_structured(inst)
        extra = {"ipm_iterations": stats.iterations, "cg_iterations": stats.cg_iterations}
    elif solver == "OSQP":
        solution = solve(inst, solver="OSQP", eps_abs=osqp_eps, eps_rel=osqp_eps, max_iter=1_000_000)
        extra = {}
    else:
        solution = solve(inst, solver=solver)
        extra = {}
    return time.perf_counter() - start, solution, extra


def measure(name: str, variant_name: str, inst: QPInstance, solvers: Sequence[str], repeats: int,
            osqp_eps: float) -> list[dict]:
    """One row per solver; gaps and speedups against this instance's Clarabel and OSQP rows."""
    rows = []
    for solver in solvers:
        timings = [run_solver(inst, solver, osqp_eps) for _ in range(repeats)]
        seconds = min(t for t, _, _ in timings)
        _, solution, extra = timings[-1]
        rows.append({"instance": name, "frames": len(inst.frames), "n_y": inst.n_y if inst.has_y else 0,
                     "n_z": inst.n_z if inst.has_z else 0, "solver": solver, "seconds": seconds,
                     "objective": solution.objective, "variant": variant_name,
                     "max_violation": max_violation(inst, solution.y, solution.z), **extra})
        print(f"{name:45s} {solver:10s} {seconds:9.3f} s  objective {solution.objective:.9g}", flush=True)
    by_solver = {r["solver"]: r for r in rows}
    for r in rows:
        clarabel, osqp = by_solver.get("CLARABEL"), by_solver.get("OSQP")
        r["rel_gap_vs_clarabel"] = (r["objective"] - clarabel["objective"]) / abs(clarabel["objective"]) \
            if clarabel else math.nan
        r["speedup_vs_clarabel"] = clarabel["seconds"] / r["seconds"] if clarabel else math.nan
        r["speedup_vs_osqp"] = osqp["seconds"] / r["seconds"] if osqp else math.nan
    return rows


# ---------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, nargs="*", default=[5, 10, 20, 50], help="scaled instances' frames")
    ap.add_argument("--variants", nargs="+", default=["full", "qp_seg", "qp_loc"],
                    help="config fc.variants: full = coupled, qp_seg = superpixels only, qp_loc = boxes only")
    ap.add_argument("--superpixels", type=int, default=200, help="superpixels per generated frame")
    ap.add_argument("--boxes", type=int, default=None,
                    help="boxes per generated frame (default: config preprocess.products.boxes_ss30.per_image)")
    ap.add_argument("--feature-dim", type=int, default=320, help="box feature dimension")
    ap.add_argument("--synthetic", nargs="*", default=None,
                    help=f"synthetic datasets to capture QPs from (default: those of {SYNTHETIC} built "
                         "under --results; none when given without names)")
    ap.add_argument("--results", type=Path, default=REPO / "results" / "synthetic",
                    help="the synthetic profile's results folder")
    ap.add_argument("--solvers", nargs="+", default=list(SOLVERS), choices=SOLVERS)
    ap.add_argument("--cvxpy-max-frames", type=int, default=None,
                    help="skip the cvxpy solvers on scaled instances with more frames (their dense KKT grows as N^3)")
    ap.add_argument("--osqp-eps", type=float, default=1e-6, help="OSQP eps_abs = eps_rel")
    ap.add_argument("--repeats", type=int, default=1, help="timings per solver and instance (best kept)")
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads (threadpoolctl); 0 = library default")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--config", type=Path, default=REPO / "config.yaml")
    ap.add_argument("--out", type=Path, default=RESULTS_BENCH / "fc_qp.csv")
    return ap.parse_args(argv)


def instances(args: argparse.Namespace, config: dict) -> Iterator[tuple[str, str, QPInstance, Sequence[str]]]:
    """(name, variant, instance, solvers) in the order measured; instances are built one at a time."""
    datasets = args.synthetic
    if datasets is None:
        datasets = [d for d in SYNTHETIC if (args.results / "data" / d / "units.json").exists()]
    for dataset in datasets:
        for name, inst in synthetic_instances(args.results, dataset, args.variants, config):
            yield name, name.split("/")[1], inst, args.solvers
    boxes = args.boxes or config["preprocess"]["products"]["boxes_ss30"]["per_image"]
    for n_frames in args.frames:
        solvers = [s for s in args.solvers if s == "STRUCTURED" or args.cvxpy_max_frames is None
                   or n_frames <= args.cvxpy_max_frames]
        for v in args.variants:
            inst = scaled_instance(config, v, n_frames, args.superpixels, boxes, args.feature_dim, args.seed)
            yield f"scaled/{v}/{n_frames}x{args.superpixels}x{boxes}", v, inst, solvers


def main(argv: Sequence[str] | None = None) -> pd.DataFrame:
    args = parse_args(argv)
    config = yaml.safe_load(args.config.read_text())
    rows: list[dict] = []
    with threadpool_limits(args.threads or None):
        for name, v, inst, solvers in instances(args, config):
            rows += measure(name, v, inst, solvers, args.repeats, args.osqp_eps)
            df = pd.DataFrame(rows).reindex(columns=COLUMNS)
            write_csv(df, args.out)              # after every instance: a long run leaves its rows behind
    print(f"wrote {args.out}")
    return df


if __name__ == "__main__":
    main()
