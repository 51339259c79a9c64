"""Snakemake entry point: the qualitative figure of one paper (weakseg.methods.<paper>.figures picks the items and
runs the method's prediction code; weakseg.tables.qualitative draws)."""

from importlib import import_module

import torch

from weakseg.tables.qualitative import render
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
paper = sm.wildcards.paper
with logged(sm.log[0], f"qualitative_figure {paper}") as log:
    torch.set_num_threads(sm.threads)
    figures = import_module(f"weakseg.methods.{paper}.figures")
    figure = figures.qualitative(dict(sm.input.items()), sm.params.cfg, log)
    height, width = render(figure, sm.output[0])
    log.info("%d rows of panels, %dx%d px", len(figure.rows), width, height)
