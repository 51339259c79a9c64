"""The five papers' methods, one subpackage each: ``weakseg.methods.<paper>``.

A method is *implemented* when its subpackage exists; its issue adds it. Baselines
and ablations are variants (configurations) of the method's code, never copies.
"""

from __future__ import annotations

from importlib.util import find_spec

from weakseg.tables.specs import PAPERS


def implemented() -> tuple[str, ...]:
    """The papers whose method subpackage exists, in :data:`PAPERS` order."""
    return tuple(p for p in PAPERS if find_spec(f"weakseg.methods.{p}") is not None)
