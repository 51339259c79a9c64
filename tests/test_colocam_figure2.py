"""Figure 2 of CoLo-CAM: PNG panels from a long table of points."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from weakseg.methods.colocam.figure2 import plot_figure2

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _points() -> pd.DataFrame:
    rows = [("a", s, n, y, np.nan) for s, base in (("TCAM", 70.0), ("CoLo-CAM", 78.0)) for n, y in
            ((2, base), (4, base + 2), (8, base + 3))]
    rows += [("b", "adaptive", lam, y, np.nan) for lam, y in ((1, 75.0), (5, 80.0), (9, 82.1), (9, 81.5))]
    rows += [("c", "constant", n, y, np.nan) for n, y in ((2, 70.0), (4, 65.0))]
    rows += [("c", "adaptive", n, y, r) for n, y, r in ((2, 80.0, 3.1), (4, 81.0, 4.2))]
    return pd.DataFrame(rows, columns=["panel", "series", "x", "y", "y2"])


def _is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == PNG_SIGNATURE


def test_all_panels_written_as_pngs_and_empty_panel_says_not_measured(tmp_path: Path) -> None:
    out = {letter: str(tmp_path / f"fig2{letter}.png") for letter in "abcd"}
    plot_figure2(_points(), out)  # no point of panel d
    images = {}
    for letter, path in out.items():
        assert _is_png(Path(path))
        images[letter] = mpimg.imread(path)
        assert images[letter].ndim == 3 and images[letter].shape[0] > 100
    # the empty panel has no drawn data: far fewer non-white pixels than a drawn one
    ink = {k: float((img[..., :3] < 0.9).any(axis=2).mean()) for k, img in images.items()}
    assert ink["d"] < ink["a"]
    # panel c has orange (left) and green (right) lines: tab:orange (1, .5, .05), tab:green (.17, .63, .17)
    rgb = images["c"][..., :3]
    assert ((rgb[..., 0] > 0.9) & (np.abs(rgb[..., 1] - 0.5) < 0.1) & (rgb[..., 2] < 0.2)).any()
    assert ((rgb[..., 1] > 0.55) & (rgb[..., 0] < 0.3) & (rgb[..., 2] < 0.3)).any()
    assert not list(tmp_path.glob(".*tmp*"))  # atomic writes leave no temporary file


def test_only_requested_panels_and_y2_column_optional(tmp_path: Path) -> None:
    pts = _points().drop(columns="y2")
    plot_figure2(pts, {"d": str(tmp_path / "sub" / "d.png")})
    assert [p.name for p in tmp_path.rglob("*.png")] == ["d.png"]
    assert _is_png(tmp_path / "sub" / "d.png")


def test_empty_points_give_not_measured_pngs(tmp_path: Path) -> None:
    plot_figure2(pd.DataFrame(columns=["panel", "series", "x", "y"]), {"a": str(tmp_path / "a.png")})
    assert _is_png(tmp_path / "a.png")


@pytest.mark.parametrize("column", ["panel", "series", "x", "y"])
def test_missing_column_is_named(tmp_path: Path, column: str) -> None:
    with pytest.raises(ValueError, match=f"missing columns \\['{column}'\\]"):
        plot_figure2(_points().drop(columns=column), {"a": str(tmp_path / "a.png")})


def test_bad_panels_and_values_raise(tmp_path: Path) -> None:
    path = str(tmp_path / "a.png")
    with pytest.raises(ValueError, match="out_paths has unknown panels \\['e'\\]"):
        plot_figure2(_points(), {"e": path})
    with pytest.raises(ValueError, match="points has unknown panels \\['z'\\]"):
        plot_figure2(pd.concat([_points(), _points().head(1).assign(panel="z")]), {"a": path})
    with pytest.raises(ValueError, match="'y2'.*panel 'c' only.*\\['a', 'b'\\]"):
        plot_figure2(_points().assign(y2=1.0), {"a": path})
    with pytest.raises(ValueError, match="'x' must be finite"):
        plot_figure2(_points().assign(x=np.nan), {"a": path})
    with pytest.raises(ValueError, match="'y' must be numeric"):
        plot_figure2(_points().assign(y="high"), {"a": path})
    assert not Path(path).exists()


def test_loss_times_use_the_configured_kernel_and_name_a_bad_one() -> None:
    import torch

    from weakseg.methods.colocam.figure2_data import coloc_loss_times

    for kernel in ("exact", "grid"):
        times = coloc_loss_times([1, 2], (6, 8), 15.0, 1, torch.device("cpu"), kernel)
        assert list(times.columns) == ["n", "pixels", "ms", "kernel"]
        assert times["kernel"].tolist() == [kernel] * 2 and times["pixels"].tolist() == [48, 96]
        assert (times["ms"] > 0).all()
    with pytest.raises(ValueError, match="colocam.loss.kernel is 'fast'"):
        coloc_loss_times([1], (6, 8), 15.0, 1, torch.device("cpu"), "fast")


def test_loss_time_series_names_the_kernel() -> None:
    from weakseg.methods.colocam.figure2_data import figure_points

    cfg = {"figure2": {"n": [], "lambda_c": []}}
    loss_time = pd.DataFrame({"n": [2, 4], "pixels": [864, 1728], "ms": [0.7, 1.9], "kernel": ["grid", "grid"]})
    points = figure_points(cfg, {}, {}, loss_time)
    assert points["series"].tolist() == ["loss time (grid)"] * 2 and points["y"].tolist() == [0.7, 1.9]
