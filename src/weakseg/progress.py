"""Progress bars for long jobs (tqdm), readable both in a terminal and in a log file."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress(iterable: Iterable[T], desc: str, unit: str = "it", total: int | None = None) -> Iterator[T]:
    """``tqdm`` over ``iterable``; redrawn every 0.1 s on a terminal, every 10 s in a log file."""
    interactive = sys.stderr.isatty()
    return iter(tqdm(iterable, desc=desc, unit=unit, total=total, file=sys.stderr,
                     mininterval=0.1 if interactive else 10.0, dynamic_ncols=interactive))
