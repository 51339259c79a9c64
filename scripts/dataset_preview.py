"""Snakemake entry point: a contact sheet of one dataset (weakseg.data.preview)."""

from pathlib import Path

from weakseg.data.preview import write_contact_sheet
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
with logged(sm.log[0], f"dataset_preview {sm.wildcards.dataset}"):
    write_contact_sheet(Path(sm.input.index).parent, sm.output[0])
