"""Compute one preprocessing product for one unit (a video, an image group or a chunk).

A *product* is a named configuration in config ``preprocess.products`` (for example
``sp_quickshift: {kind: superpixels, method: quickshift, ...}``); its ``kind`` picks
the runner below. A runner reads the unit's images (and the unit files of the products
it depends on), calls the library function of its kind, and returns the per-item
fields that :func:`weakseg.preprocess.store.save_unit` writes, plus attributes saying
which method and parameters ran (shown in table footnotes).

Fields per kind (per item, shapes as stored):

============  ==============================================================================
superpixels   labels int32 (H,W); mean_colour (K,3); centroid (K,2) (x,y); histogram (K,b^3);
              size (K,); edges (E,2)
boxes         boxes float32 (N,4) continuous corners; scores float32 (N,) in (0,1], descending
segments      masks bool (N,H,W); scores float32 (N,)
flow          flow float32 (H,W,2) (dx,dy) to the next frame of the shot
saliency      image float32 (H,W); motion (H,W) (videos); video = max(image, motion) (videos)
motion        mask bool (H,W): FST motion segment
dsift         bow float32 (K,words): bag of dense-SIFT words per superpixel
box_features  features float32 (N,C), L2-normalised, one row per box of the boxes product
feature_maps  maps float32 (C,h,w): the backbone's map at ``stage`` (default: deepest)
============  ==============================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from importlib import import_module
from typing import Any

import numpy as np

from weakseg.data.index import Dataset
from weakseg.preprocess.store import UnitData
from weakseg.progress import progress

Fields = dict[str, list[np.ndarray]]
Runner = Callable[[Dataset, Sequence[str], Mapping[str, Any], Mapping[str, UnitData]], tuple[Fields, dict]]


def select_items(ds: Dataset, unit_items: Sequence[str], which: str) -> list[str]:
    """The items of a unit a product is computed on: ``all`` or ``box_annotated`` frames
    (Foreground Clustering optimises on annotated key frames only, Sec. 6)."""
    if which == "all":
        return list(unit_items)
    if which == "box_annotated":
        annotated = set(ds.index.loc[ds.index["box_annotated"], "item"])
        return [i for i in unit_items if i in annotated]
    raise ValueError(f"preprocess 'items: {which}' is not one of ['all', 'box_annotated']")


def _superpixels(ds: Dataset, items: Sequence[str], cfg: Mapping[str, Any], deps: Mapping[str, UnitData]):
    from weakseg.preprocess.superpixels import segment, superpixel_stats

    fields: Fields = {k: [] for k in ("labels", "mean_colour", "centroid", "histogram", "size", "edges")}
    for item in progress(items, desc="superpixels", unit="img"):
        image = ds.image(item)
        labels = segment(image, cfg["method"], max_side=cfg.get("max_side"), **cfg.get("params", {}))
        stats = superpixel_stats(image, labels, bins=cfg["hist_bins"])
        fields["labels"].append(labels)
        for k in ("mean_colour", "centroid", "histogram", "size", "edges"):
            fields[k].append(getattr(stats, k))
    return fields, {"method": cfg["method"], "params": cfg.get("params", {}), "hist_bins": cfg["hist_bins"],
                    "max_side": cfg.get("max_side")}


def _proposals(function: str, field: str, desc: str) -> Runner:
    """A runner of ``weakseg.preprocess.proposals.<function>`` (boxes or segments) storing
    its proposals under ``field`` and their scores under ``scores``."""

    def run(ds: Dataset, items: Sequence[str], cfg: Mapping[str, Any], deps: Mapping[str, UnitData]):
        propose = getattr(import_module("weakseg.preprocess.proposals"), function)
        fields: Fields = {field: [], "scores": []}
        for item in progress(items, desc=desc, unit="img"):
            found, scores = propose(ds.image(item), cfg["per_image"], cfg["method"], **cfg.get("params", {}))
            fields[field].append(found)
            fields["scores"].append(scores)
        return fields, {"method": cfg["method"], "per_image": cfg["per_image"], "params": cfg.get("params", {})}

    return run


def _shots(ds: Dataset, items: Sequence[str]) -> list[list[str]]:
    """Items grouped by shot in frame order (still images: one group each)."""
    rows = ds.index.set_index("item").loc[list(items)]
    if rows["shot"].isna().all():
        return [[i] for i in items]
    ordered = rows.reset_index().sort_values(["shot", "frame"], kind="stable")
    return [list(g["item"]) for _, g in ordered.groupby("shot", sort=False)]


def _flow(ds: Dataset, items: Sequence[str], cfg: Mapping[str, Any], deps: Mapping[str, UnitData]):
    from weakseg.preprocess.flow import shot_flows

    order, flows = [], []
    for shot in progress(_shots(ds, items), desc="optical flow", unit="shot"):
        order += shot
        flows += list(shot_flows([ds.image(i) for i in shot], cfg["method"], **cfg.get("params", {})))
    by_item = dict(zip(order, flows))
    return {"flow": [by_item[i] for i in items]}, {"method": cfg["method"], "params": cfg.get("params", {})}


def _saliency(ds: Dataset, items: Sequence[str], cfg: Mapping[str, Any], deps: Mapping[str, UnitData]):
    from weakseg.preprocess.saliency import (
        image_saliency,
        motion_saliency,
        video_saliency,
    )

    flow = deps.get("flow")
    fields: Fields = {"image": []} if flow is None else {"image": [], "motion": [], "video": []}
    for item in progress(items, desc="saliency", unit="img"):
        img_sal = image_saliency(ds.image(item), cfg["method"])
        fields["image"].append(img_sal)
        if flow is not None:
            mot = motion_saliency(flow.get("flow", item))
            fields["motion"].append(mot)
            fields["video"].append(video_saliency(img_sal, mot))
    return fields, {"method": cfg["method"], "motion": flow is not None}


def _motion(ds: Dataset, items: Sequence[str], cfg: Mapping[str, Any], deps: Mapping[str, UnitData]):
    from weakseg.preprocess.motion import segment_shot

    flow = deps["flow"]
    params = dict(cfg.get("params", {}))
    by_item: dict[str, np.ndarray] = {}
    for shot in progress(_shots(ds, items), desc="motion segmentation", unit="shot"):
        frames = np.stack([ds.image(i) for i in shot])
        flows = np.stack([flow.get("flow", i) for i in shot])
        by_item.update(zip(shot, segment_shot(frames, flows, iterations=cfg["iterations"], **params)))
    return {"mask": [by_item[i] for i in items]}, {"method": "fst", "iterations": cfg["iterations"], "params": params}


def _dsift(ds: Dataset, items: Sequence[str], cfg: Mapping[str, Any], deps: Mapping[str, UnitData]):
    from weakseg.preprocess.dsift import (
        assign_words,
        bow_per_superpixel,
        dense_sift,
        fit_vocabulary,
    )

    sp = deps["superpixels"]
    sifts = [dense_sift(ds.image(i), step=cfg["step"], size=cfg["size"])
             for i in progress(items, desc="dense sift", unit="img")]
    vocabulary = fit_vocabulary(np.concatenate([d for _, d in sifts]), cfg["words"], seed=cfg["seed"])
    bows = [bow_per_superpixel(pts, assign_words(desc, vocabulary), sp.get("labels", item), cfg["words"])
            for item, (pts, desc) in zip(items, sifts)]
    return {"bow": bows}, {"step": cfg["step"], "size": cfg["size"], "words": cfg["words"],
                           "vocabulary": "per unit (k-means)"}


def _backbone(cfg: Mapping[str, Any]):
    """(model, info, device) of a feature product's backbone; the map of stage ``cfg['stage']``
    (default: the deepest) is the model's last output."""
    from weakseg.features.backbones import load_backbone
    from weakseg.features.device import pick_device
    from weakseg.features.registry import BACKBONES

    info = BACKBONES[cfg["backbone"]]
    stage = cfg.get("stage", len(info.stages) - 1)
    device = pick_device(cfg["device"])
    model = load_backbone(cfg["backbone"], weights=cfg["weights"], out_indices=[stage]).to(device).eval()
    return model, info, device, {"backbone": cfg["backbone"], "weights": cfg["weights"], "stage": stage,
                                 "input_size": cfg["input_size"], "device": str(device)}


def _box_features(ds: Dataset, items: Sequence[str], cfg: Mapping[str, Any], deps: Mapping[str, UnitData]):
    from weakseg.features.extract import box_features

    model, info, device, attrs = _backbone(cfg)
    feats = box_features(model, info, [ds.image(i) for i in items], [deps["boxes"].get("boxes", i) for i in items],
                         input_size=cfg["input_size"], batch_size=cfg["batch_size"], device=device)
    return {"features": feats}, attrs


def _feature_maps(ds: Dataset, items: Sequence[str], cfg: Mapping[str, Any], deps: Mapping[str, UnitData]):
    from weakseg.features.extract import image_feature_maps

    model, info, device, attrs = _backbone(cfg)
    maps = image_feature_maps(model, info, [ds.image(i) for i in items], input_size=cfg["input_size"],
                              batch_size=cfg["batch_size"], device=device)
    return {"maps": maps}, attrs


RUNNERS: dict[str, Runner] = {
    "superpixels": _superpixels,
    "boxes": _proposals("box_proposals", "boxes", "box proposals"),
    "segments": _proposals("segment_proposals", "masks", "segment proposals"),
    "flow": _flow,
    "saliency": _saliency, "motion": _motion, "dsift": _dsift, "box_features": _box_features,
    "feature_maps": _feature_maps,
}


def run_product(ds: Dataset, unit_items: Sequence[str], cfg: Mapping[str, Any],
                deps: Mapping[str, UnitData]) -> tuple[list[str], Fields, dict]:
    """Items, fields and attributes of one product (config ``cfg``) on one unit.

    ``deps`` maps a dependency key of ``cfg`` (``flow``, ``superpixels``, ``boxes``) to the
    loaded unit file of that product. Dependencies must cover the selected items.
    """
    kind = cfg["kind"]
    if kind not in RUNNERS:
        raise ValueError(f"preprocess kind {kind!r} is not one of {sorted(RUNNERS)}")
    items = select_items(ds, unit_items, cfg.get("items", "all"))
    for key, unit in deps.items():
        missing = sorted(set(items) - set(unit.items))
        if missing:
            raise ValueError(f"{unit.path}: product {cfg[key]!r} lacks items {missing[:3]} that {kind} needs; "
                             f"give it 'items: all' or the same 'items' as this product")
    fields, attrs = RUNNERS[kind](ds, items, cfg, deps)
    return items, fields, {"kind": kind, **attrs}


REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "superpixels": ("method", "hist_bins"),
    "boxes": ("method", "per_image"),
    "segments": ("method", "per_image"),
    "flow": ("method",),
    "saliency": ("method",),
    "motion": ("flow", "iterations"),
    "dsift": ("superpixels", "step", "size", "words", "seed"),
    "box_features": ("boxes", "backbone", "weights", "input_size", "batch_size", "device"),
    "feature_maps": ("backbone", "weights", "input_size", "batch_size", "device"),
}
DEPENDENCY_KINDS: dict[str, str] = {"flow": "flow", "superpixels": "superpixels", "boxes": "boxes"}


def check_products(products: Mapping[str, Mapping[str, Any]]) -> None:
    """Check ``preprocess.products``: required keys per kind, and that every product named
    by ``flow`` / ``superpixels`` / ``boxes`` exists and is of that kind."""
    for name, cfg in products.items():
        where = f"preprocess.products.{name}"
        missing = [k for k in REQUIRED_KEYS[cfg["kind"]] if k not in cfg]
        if missing:
            raise ValueError(f"config '{where}' (kind {cfg['kind']}) lacks keys {missing}")
        for key, kind in DEPENDENCY_KINDS.items():
            if key in cfg and products.get(cfg[key], {}).get("kind") != kind:
                known = sorted(n for n, c in products.items() if c["kind"] == kind)
                raise ValueError(f"config '{where}.{key}' names {cfg[key]!r}, which is not a {kind} product; "
                                 f"{kind} products: {known}")


GPU_KINDS: frozenset[str] = frozenset({"box_features", "feature_maps"})


def dependencies(cfg: Mapping[str, Any], video: bool) -> dict[str, str]:
    """Dependency key -> product name of one product; saliency uses flow on videos only."""
    return {k: cfg[k] for k in DEPENDENCY_KINDS
            if k in cfg and not (cfg["kind"] == "saliency" and k == "flow" and not video)}


def with_dependencies(products: Mapping[str, Mapping[str, Any]], wanted: Sequence[str], video: bool) -> list[str]:
    """``wanted`` plus every product they build on, dependencies first (topological order)."""
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        for dep in dependencies(products[name], video).values():
            visit(dep)
        order.append(name)

    for name in wanted:
        visit(name)
    return order


def run_unit(ds: Dataset, unit_items: Sequence[str], products: Mapping[str, Mapping[str, Any]],
             names: Sequence[str], outputs: Mapping[str, str]) -> dict[str, tuple[int, float]]:
    """Compute products ``names`` (in dependency order) on one unit, one process, images
    read once per product; write each to ``outputs[name]``. Returns name -> (items, seconds).

    A saliency product skips motion saliency on still images (no flow there).
    """
    import time

    from weakseg.preprocess.store import load_unit, save_unit

    done: dict[str, UnitData] = {}
    stats = {}
    for name in names:
        cfg = products[name]
        deps = {k: done.get(dep) or load_unit(outputs[dep])
                for k, dep in dependencies(cfg, ds.meta.kind == "video").items()}
        start = time.time()
        items, fields, attrs = run_product(ds, unit_items, cfg, deps)
        save_unit(outputs[name], items, fields, {**attrs, "product": name})
        done[name] = load_unit(outputs[name])
        stats[name] = (len(items), time.time() - start)
    return stats
