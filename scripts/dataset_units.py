"""Snakemake entry point: the units (videos, groups, chunks) of one dataset (weakseg.preprocess.units)."""

from pathlib import Path

from weakseg.data.index import Dataset
from weakseg.io import write_json
from weakseg.preprocess.units import dataset_units, unit_classes, unit_splits
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
with logged(sm.log[0], f"dataset_units {sm.wildcards.dataset}") as log:
    ds = Dataset(Path(sm.input.index).parent)
    units = dataset_units(ds.index, chunk=sm.params.chunk)
    write_json(sm.output[0], {"kind": ds.meta.kind, "units": units, "classes": unit_classes(ds.index, units),
                                "splits": unit_splits(ds.index, units)})
    log.info("%d units", len(units))
