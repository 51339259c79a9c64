"""Snakemake entry point: unpack a real benchmark's downloaded files into one tree (weakseg.data.download)."""

from pathlib import Path

from weakseg.data.download import extract_all
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
with logged(sm.log[0], f"extract {sm.wildcards.dataset}") as log:
    files = sm.params.files
    extract_all([(Path(path), remote) for path, remote in zip(sm.input, files, strict=True)], sm.output[0])
    log.info("%d files into %s", len(files), sm.output[0])
