"""Datasets: the canonical format and reader (:mod:`.index`), the writer, the synthetic
generator (:mod:`.synthetic`) and the benchmark/profile registry (:mod:`.benchmarks`)."""

from weakseg.data.index import Dataset, DatasetError, DatasetMeta

__all__ = ["Dataset", "DatasetError", "DatasetMeta"]
