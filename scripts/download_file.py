"""Snakemake entry point: download one official file of a real benchmark, verified (weakseg.data.download)."""

from weakseg.data.download import fetch
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
with logged(sm.log[0], f"download {sm.wildcards.dataset}/{sm.wildcards.file}") as log:
    remote = sm.params.remote
    sha256 = fetch(remote, sm.output[0])
    log.info("%s from %s: sha256 %s%s", remote.name, remote.url, sha256,
             f", {remote.digest[0]} verified" if remote.digest else ", no published digest")
