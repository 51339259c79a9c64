"""Progress bars for long jobs (tqdm), readable both in a terminal and in a log file."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from tqdm import tqdm

T = TypeVar("T")


def _style() -> dict[str, Any]:
    interactive = sys.stderr.isatty()
    return {"file": sys.stderr, "mininterval": 0.1 if interactive else 10.0, "dynamic_ncols": interactive}


def progress(iterable: Iterable[T], desc: str, unit: str = "it", total: int | None = None) -> Iterator[T]:
    """``tqdm`` over ``iterable``; redrawn every 0.1 s on a terminal, every 10 s in a log file."""
    return iter(tqdm(iterable, desc=desc, unit=unit, total=total, **_style()))


def progress_bar(total: int | None, desc: str, unit: str = "it", initial: int = 0, unit_scale: bool = False) -> tqdm:
    """A manual ``tqdm`` bar (``bar.update(n)``), styled as :func:`progress`; use as a context manager."""
    return tqdm(total=total, initial=initial, desc=desc, unit=unit, unit_scale=unit_scale, **_style())
