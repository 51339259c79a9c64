"""Per-unit storage of preprocessing products: one ``.npz`` per (dataset, unit, product).

A unit file holds, for every item of the unit (in unit order), one array per field,
possibly of a different shape per item (images of a group may differ in size). Fields
are stored flat and concatenated, with each item's shape, so loading is one read::

    save_unit(path, items, {"labels": [l0, l1], "boxes": [b0, b1]}, attrs={"method": "slic"})
    unit = load_unit(path)
    unit.get("labels", items[1])   # -> l1, with its shape and dtype

``attrs`` (JSON) records how the product was made (method, parameters), so tables can
say which substitute ran. Writes are atomic.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from weakseg.io import atomic_path


def save_unit(path: str | Path, items: Sequence[str], fields: Mapping[str, Sequence[np.ndarray]],
              attrs: Mapping[str, Any] | None = None) -> None:
    """Write ``fields[name][i]`` (the array of ``items[i]``) for every field to ``path``."""
    arrays: dict[str, np.ndarray] = {"__items__": np.asarray(list(items), dtype=str),
                                     "__attrs__": np.asarray(json.dumps(dict(attrs or {}), sort_keys=True))}
    for name, per_item in fields.items():
        if len(per_item) != len(items):
            raise ValueError(f"{path}: field {name!r} has {len(per_item)} arrays for {len(items)} items")
        per_item = [np.asarray(a) for a in per_item]
        dtypes = {a.dtype for a in per_item}
        ndims = {a.ndim for a in per_item}
        if len(dtypes) > 1 or len(ndims) > 1:
            raise ValueError(f"{path}: field {name!r} mixes dtypes {dtypes} or ranks {ndims} across items")
        arrays[f"{name}__flat"] = (np.concatenate([a.ravel() for a in per_item]) if per_item
                                   else np.zeros(0))
        arrays[f"{name}__shapes"] = np.asarray([a.shape for a in per_item], dtype=np.int64).reshape(len(per_item), -1)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)


@dataclass
class UnitData:
    """The contents of one unit file."""

    path: Path
    items: list[str]
    attrs: dict[str, Any]
    _flat: dict[str, np.ndarray]
    _shapes: dict[str, np.ndarray]

    @property
    def fields(self) -> list[str]:
        return sorted(self._flat)

    def get(self, field: str, item: str) -> np.ndarray:
        """The array of ``field`` for ``item``."""
        if field not in self._flat:
            raise KeyError(f"{self.path}: no field {field!r}; fields: {self.fields}")
        try:
            i = self.items.index(item)
        except ValueError:
            raise KeyError(f"{self.path}: no item {item!r}") from None
        sizes = self._shapes[field].prod(axis=1) if self._shapes[field].shape[1] else np.ones(len(self.items), int)
        start = int(sizes[:i].sum())
        return self._flat[field][start:start + int(sizes[i])].reshape(self._shapes[field][i])

    def all(self, field: str) -> list[np.ndarray]:
        """The arrays of ``field`` for every item, in unit order."""
        return [self.get(field, it) for it in self.items]


def load_unit(path: str | Path) -> UnitData:
    """Read a unit file written by :func:`save_unit`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found; build it with snakemake (preprocess target)")
    with np.load(path, allow_pickle=False) as z:
        names = {k[:-6] for k in z.files if k.endswith("__flat")}
        return UnitData(path=path, items=[str(s) for s in z["__items__"]], attrs=json.loads(str(z["__attrs__"])),
                        _flat={n: z[f"{n}__flat"] for n in names}, _shapes={n: z[f"{n}__shapes"] for n in names})


def merge_units(units: Sequence[UnitData]) -> UnitData:
    """One :class:`UnitData` over the items of several unit files of the same product
    (e.g. every video of a dataset, for a per-dataset job)."""
    if not units:
        raise ValueError("merge_units needs at least one unit")
    fields = units[0].fields
    for u in units:
        if u.fields != fields:
            raise ValueError(f"{u.path}: fields {u.fields} differ from {units[0].path}: {fields}")
    return UnitData(path=units[0].path.parent.parent, items=[i for u in units for i in u.items],
                    attrs=units[0].attrs,
                    _flat={f: np.concatenate([u._flat[f] for u in units]) for f in fields},
                    _shapes={f: np.concatenate([u._shapes[f] for u in units]) for f in fields})
