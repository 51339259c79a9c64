"""Render a built table to CSV, Markdown and PNG, and the index of all tables.

Every rendering shows the measured value beside the paper's, names the dataset
profile and the dataset each benchmark was measured on, and lists paper-only rows
as such. Files are written atomically.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from weakseg.io import atomic_path, write_text  # noqa: E402
from weakseg.tables.specs import PaperSpec, TableSpec  # noqa: E402


def _fmt(x: float, std: float = float("nan")) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    text = f"{x:.1f}" if abs(x) < 1e4 else f"{x:.3g}"
    return f"{text} ± {std:.1f}" if not math.isnan(std) else text


def footnotes(spec: TableSpec, df: pd.DataFrame, profile: str, extra: Sequence[str] = ()) -> list[str]:
    """The notes printed under a table: profile, datasets, protocol, substitutes, citations."""
    used = df.dropna(subset=["dataset"]).drop_duplicates("benchmark")
    mapping = ", ".join(f"{b} → {d}" for b, d in zip(used["benchmark"], used["dataset"])) or "none measured"
    notes = [f"Measured on dataset profile `{profile}` ({mapping}). "
             f"Paper values transcribed from {spec.paper_table} of the paper.",
             f"Protocol: {spec.protocol}" if spec.protocol else "", *extra]
    notes += [f"{r.label}: paper-only row, cited from {r.cite}." for r in spec.rows if r.paper_only and r.cite]
    return [n for n in notes if n]


def render_markdown(spec: TableSpec, paper: PaperSpec, df: pd.DataFrame, notes: Sequence[str]) -> str:
    """Markdown: for each measured row a "measured" line and a "paper" line."""
    cols = list(spec.columns)
    unit = f" ({spec.unit})" if spec.unit else ""
    lines = [f"# {paper.paper} {spec.paper_table}: {spec.title}{unit}", "",
             "| row | | " + " | ".join(c.label for c in cols) + " |",
             "|---|---|" + "---|" * len(cols)]
    by_cell = df.set_index(["row", "column"])
    for row in spec.rows:
        kinds = [("paper", "paper")] if row.paper_only else [("measured", "measured"), ("paper", "paper")]
        for kind, label in kinds:
            cells = []
            for c in cols:
                rec = by_cell.loc[(row.key, c.key)]
                cells.append(_fmt(rec[kind], rec["paper_std"] if kind == "paper" else rec["measured_std"]))
            name = row.label + (" (paper only)" if row.paper_only else "")
            lines.append(f"| {name if kind == kinds[0][0] else ''} | {label} | " + " | ".join(cells) + " |")
    lines += ["", *[f"- {n}" for n in notes], "", f"Source: {paper.citation}", ""]
    return "\n".join(lines)


def _plot_columns(spec: TableSpec) -> list[str]:
    """Columns shown in the figure: the aggregates if any, else up to four columns."""
    agg = [c.key for c in spec.columns if c.aggregate]
    return agg or [c.key for c in spec.columns][:4]


def render_png(spec: TableSpec, df: pd.DataFrame, path: Path) -> None:
    """Grouped bars, measured beside paper, for each row and the summary column(s)."""
    keys = _plot_columns(spec)
    fig, axes = plt.subplots(1, len(keys), figsize=(max(5.0, 0.55 * len(spec.rows) + 2) * len(keys) ** 0.5 + 1, 4.2),
                             squeeze=False)
    for ax, key in zip(axes[0], keys):
        sub = df[df["column"] == key].reset_index(drop=True)
        x = range(len(sub))
        ax.bar([i - 0.2 for i in x], sub["measured"].fillna(0), width=0.4, label="measured", color="#1f77b4")
        ax.bar([i + 0.2 for i in x], sub["paper"].fillna(0), width=0.4, label="paper", color="#bbbbbb")
        for i, m in enumerate(sub["measured"]):
            if math.isnan(m) and not sub["paper_only"][i]:
                ax.text(i - 0.2, 0, "n/a", ha="center", va="bottom", fontsize=7, rotation=90)
        ax.set_xticks(list(x))
        ax.set_xticklabels(sub["row_label"], rotation=60, ha="right", fontsize=7)
        ax.set_title(sub["column_label"].iloc[0] if len(sub) else key, fontsize=9)
        ax.set_ylabel(spec.unit or sub["metric"].iloc[0])
    axes[0][0].legend(fontsize=8)
    fig.suptitle(f"{spec.paper} {spec.paper_table}: {spec.title}", fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


def write_table(spec: TableSpec, paper: PaperSpec, df: pd.DataFrame, profile: str, csv: Path, md: Path,
                png: Path, extra_notes: Sequence[str] = ()) -> None:
    """Write the CSV (long form), the Markdown and the PNG of one table."""
    notes = footnotes(spec, df, profile, extra_notes)
    out = df.assign(profile=profile, table=spec.id, paper_table=spec.paper_table)
    with atomic_path(csv) as tmp:
        out.to_csv(tmp, index=False, float_format="%.6g")
    write_text(md, render_markdown(spec, paper, df, notes))
    render_png(spec, df, png)


@dataclass(frozen=True)
class IndexEntry:
    """One line of the tables index: a built table, or one not built and why."""

    group: str
    name: str
    title: str
    link: str | None
    status: str


def write_index(entries: Sequence[IndexEntry], profile: str, md: Path, html_path: Path) -> None:
    """``index.md`` and ``index.html`` listing every table (links relative to the index)."""
    lines = [f"# weakseg tables (dataset profile `{profile}`)", "",
             "| paper | table | title | status |", "|---|---|---|---|"]
    rows_html = []
    for e in entries:
        name_md = f"[{e.name}]({e.link})" if e.link else e.name
        lines.append(f"| {e.group} | {name_md} | {e.title} | {e.status} |")
        name_html = f'<a href="{html.escape(e.link)}">{html.escape(e.name)}</a>' if e.link else html.escape(e.name)
        rows_html.append(f"<tr><td>{html.escape(e.group)}</td><td>{name_html}</td>"
                         f"<td>{html.escape(e.title)}</td><td>{html.escape(e.status)}</td></tr>")
    write_text(md, "\n".join(lines) + "\n")
    write_text(html_path, (
        "<!doctype html><html><head><meta charset='utf-8'><title>weakseg tables</title>"
        "<style>body{font-family:sans-serif}td,th{padding:2px 8px;border-bottom:1px solid #ddd}</style>"
        f"</head><body><h1>weakseg tables (dataset profile <code>{html.escape(profile)}</code>)</h1>"
        "<table><tr><th>paper</th><th>table</th><th>title</th><th>status</th></tr>"
        + "".join(rows_html) + "</table></body></html>\n"))
