"""What the tables index lists: the dataset summary, every table of the enabled methods,
and every other table with the reason it was not built."""

from __future__ import annotations

from collections.abc import Sequence

from weakseg.methods import implemented
from weakseg.tables.render import IndexEntry
from weakseg.tables.specs import PAPERS, load_paper


def index_entries(enabled: Sequence[str], previews: Sequence[str] = (),
                  figures: Sequence[tuple[str, str, str]] = ()) -> list[IndexEntry]:
    """Entries in paper order; links are relative to ``results/tables/``.

    ``figures``: (paper, name, path relative to ``results/tables/``) of the figures built with the tables,
    listed after that paper's tables.

    ``previews`` names the datasets whose contact sheet (``data/previews/<name>.png``) exists.
    """
    entries = [IndexEntry("data", "summary", "Datasets of the profile beside the real benchmarks",
                          "data/summary.md", "built")]
    entries += [IndexEntry("data", f"preview {d}", f"Sample images of {d} with ground-truth boxes and masks",
                           f"data/previews/{d}.png", "built") for d in previews]
    done = implemented()
    for paper in PAPERS:
        spec = load_paper(paper)
        if paper in enabled:
            status, linked = "built", True
        elif paper in done:
            status, linked = "method not enabled in config 'methods.enabled'", False
        else:
            status, linked = f"not built: method not implemented yet (issue #{spec.issue})", False
        for t in spec.tables.values():
            entries.append(IndexEntry(paper, f"{t.paper_table} ({t.id})", t.title,
                                      f"{paper}/{t.id}.md" if linked else None, status))
        entries += [IndexEntry(paper, name, name, path, "built") for p, name, path in figures if p == paper]
    return entries
