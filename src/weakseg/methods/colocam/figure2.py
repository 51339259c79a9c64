"""Figure 2 of CoLo-CAM (Belharbi et al., Sec. 4.3 b-d): the ablations on the number of frames n and lambda_c.

Panels, as in the paper's caption (YTOv1 test set):

(a) CorLoc vs the number of frames n, for TCAM and CoLo-CAM;
(b) CorLoc vs the adaptive multi-frame weight lambda_c;
(c) CorLoc (left axis, orange) with a constant and an adaptive lambda_c vs n, and
    log(|R_c|) (right axis, green), the log of the multi-frame term's magnitude;
(d) computation time of the multi-frame loss (Eq. 4), forward + backward, in ms, vs n.

Input is a long table of points (:data:`POINT_COLUMNS`); several points of one series at the
same x (seeds, repeated timings) are drawn as their mean with a +-1 std error bar.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from weakseg.io import atomic_path  # noqa: E402

POINT_COLUMNS: tuple[str, ...] = ("panel", "series", "x", "y")
"""Required columns of the points table; ``y2`` (log |R_c|, panel c only) is optional."""

PANELS: dict[str, tuple[str, str, str]] = {
    "a": ("(a) Impact of the number of frames $n$ on CorLoc", "number of frames $n$", "CorLoc (%)"),
    "b": (r"(b) Impact of the adaptive $\lambda_c$ on CorLoc", r"$\lambda_c$", "CorLoc (%)"),
    "c": (r"(c) Constant vs adaptive $\lambda_c$", "number of frames $n$", "CorLoc (%)"),
    "d": ("(d) Multi-frame loss (Eq. 4): forward + backward time", "number of frames $n$", "time (ms)"),
}
"""Panel letter -> (title, x label, left y label)."""

Y2_LABEL = r"$\log(|\mathcal{R}_c|)$"
LEFT_COLOR_C, RIGHT_COLOR_C = "tab:orange", "tab:green"
LINESTYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D", "v", "P")


def _check_points(points: pd.DataFrame, out_paths: Mapping[str, str]) -> pd.DataFrame:
    missing = [c for c in POINT_COLUMNS if c not in points.columns]
    if missing:
        raise ValueError(f"points is missing columns {missing}; expected {list(POINT_COLUMNS)} (+ optional 'y2')")
    bad_out = sorted(set(out_paths) - set(PANELS))
    if bad_out:
        raise ValueError(f"out_paths has unknown panels {bad_out}; panels are {list(PANELS)}")
    pts = points.assign(panel=points["panel"].astype(str), y2=points["y2"] if "y2" in points.columns else np.nan)
    bad_panels = sorted(set(pts["panel"]) - set(PANELS))
    if bad_panels:
        raise ValueError(f"points has unknown panels {bad_panels}; panels are {list(PANELS)}")
    for column in ("x", "y", "y2"):
        try:
            pts[column] = pts[column].astype(float)
        except (TypeError, ValueError) as err:
            raise ValueError(f"points column {column!r} must be numeric: {err}") from err
    if not np.isfinite(pts["x"]).all():
        raise ValueError("points column 'x' must be finite (a number of frames n or a lambda_c)")
    off_c = pts["y2"].notna() & (pts["panel"] != "c")
    if off_c.any():
        raise ValueError(f"points column 'y2' (log |R_c|) belongs to panel 'c' only; got values on panels "
                         f"{sorted(set(pts.loc[off_c, 'panel']))}")
    return pts


def _draw(ax: Axes, series: pd.DataFrame, column: str, style: dict) -> bool:
    """Mean (and std where repeated) of ``column`` per x of one series; False if it has no value."""
    stats = series.dropna(subset=[column]).groupby("x")[column].agg(["mean", "std", "count"])
    if stats.empty:
        return False
    std = stats["std"].fillna(0.0) if (stats["count"] > 1).any() else None
    ax.errorbar(stats.index, stats["mean"], yerr=std, capsize=3 if std is not None else 0, **style)
    return True


def _plot_panel(letter: str, pts: pd.DataFrame, path: str) -> None:
    title, xlabel, ylabel = PANELS[letter]
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if letter != "b":
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    drawn = False
    right = ax.twinx() if letter == "c" and pts["y2"].notna().any() else None
    for k, (name, series) in enumerate(pts.groupby("series", sort=False)):
        style = {"marker": MARKERS[k % len(MARKERS)], "linestyle": LINESTYLES[k % len(LINESTYLES)]}
        left_style = {**style, "label": str(name)}
        if letter == "c":
            left_style["color"] = LEFT_COLOR_C
        drawn |= _draw(ax, series, "y", left_style)
        if right is not None:
            drawn |= _draw(right, series, "y2", {**style, "color": RIGHT_COLOR_C, "label": f"{Y2_LABEL} ({name})"})
    if right is not None:
        right.set_ylabel(Y2_LABEL, color=RIGHT_COLOR_C)
        right.tick_params(axis="y", colors=RIGHT_COLOR_C)
        ax.set_ylabel(ylabel, color=LEFT_COLOR_C)
        ax.tick_params(axis="y", colors=LEFT_COLOR_C)
    if drawn:
        handles, labels = ax.get_legend_handles_labels()
        if right is not None:
            extra = right.get_legend_handles_labels()
            handles, labels = handles + extra[0], labels + extra[1]
        (ax if right is None else right).legend(handles, labels, fontsize=8)  # the top axes: above every line
    else:
        ax.text(0.5, 0.5, "not measured", transform=ax.transAxes, ha="center", va="center", fontsize=14,
                color="gray")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


def plot_figure2(points: pd.DataFrame, out_paths: Mapping[str, str]) -> None:
    """Write the panels of Figure 2 named in ``out_paths`` as PNGs (each written atomically).

    Args:
        points: one row per measured point, columns ``panel`` ('a'..'d'), ``series`` (legend
            label, e.g. 'CoLo-CAM', 'TCAM', 'constant', 'adaptive', 'loss time (exact)'), ``x`` (float:
            number of frames n for a, c, d; lambda_c for b), ``y`` (float: CorLoc in % for a-c,
            milliseconds for d; NaN where a series has only ``y2``) and optionally ``y2`` (float,
            log |R_c| for panel c, NaN when absent; drawn in green on a right axis). Repeated
            (series, x) points are drawn as mean +- std. Other columns are ignored.
        out_paths: panel letter -> PNG path; panels not named are not drawn. A panel without
            points is written as a PNG saying "not measured".
    """
    pts = _check_points(points, out_paths)
    for letter, path in out_paths.items():
        _plot_panel(letter, pts[pts["panel"] == letter], path)
