"""The five papers' methods, one subpackage each: ``weakseg.methods.<paper>``.

A method is *implemented* when its subpackage has a ``notes`` module (the footnotes of its
tables, :func:`table_notes`), which its issue adds last, once the tables can be built: parts of a
method may land earlier without its tables being offered. Baselines and ablations are variants
(configurations) of the method's code, never copies.
"""

from __future__ import annotations

from importlib.util import find_spec

from weakseg.tables.specs import PAPERS


def implemented() -> tuple[str, ...]:
    """The papers whose method is complete (``weakseg.methods.<paper>.notes`` exists), in :data:`PAPERS` order."""
    return tuple(p for p in PAPERS
                 if find_spec(f"weakseg.methods.{p}") is not None and find_spec(f"weakseg.methods.{p}.notes") is not None)


def table_notes(paper: str, config: dict) -> list[str]:
    """Footnotes a method adds to its tables (substitutes that ran, subsets used): the
    ``table_notes(config)`` of ``weakseg.methods.<paper>.notes`` where it exists."""
    if find_spec(f"weakseg.methods.{paper}.notes") is None:
        return []
    from importlib import import_module

    return list(import_module(f"weakseg.methods.{paper}.notes").table_notes(config))


def unavailable_variants(paper: str, config: dict) -> dict[str, str]:
    """Variants of ``paper`` the active profile cannot measure (variant -> reason, e.g. a training
    set it does not map): the ``unavailable(config)`` of ``weakseg.methods.<paper>.notes`` where it
    exists. Their table rows stay unmeasured, with the reason in a footnote."""
    if find_spec(f"weakseg.methods.{paper}.notes") is None:
        return {}
    from importlib import import_module

    module = import_module(f"weakseg.methods.{paper}.notes")
    return dict(module.unavailable(config)) if hasattr(module, "unavailable") else {}
