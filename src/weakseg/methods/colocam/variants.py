"""Every measured CoLo-CAM row (Tables 1-7, Fig. 2) as one configuration of the same code.

A variant is either a CAM method of the frozen classifier (``cam: <method>``: the rows CAM ... LayerCAM, evaluated
on the classifier's own maps) or a decoder training: the overrides of config ``colocam.defaults`` (Sec. 4.1's
CoLo-CAM) it declares.

=============  ==============================================================================================
field          meaning
=============  ==============================================================================================
cam            a method of :data:`CAM_METHODS`: no decoder, the classifier CAM
backbone       classifier backbone (default ``colocam.classifier.backbone``; Table 6)
terms          terms of eq. 5: ``pl`` (eq. 1), ``crf`` (eq. 2), ``asc`` (eq. 3), ``coloc`` (eq. 4) (Table 2)
n              frames per training group; the CoLoc term couples the n frames of a group (Fig. 2 a)
sampling       how the n frames are drawn from a shot: adjacent, interval, gaussian (Table 5)
lambda_c       weight of eq. 4 in eq. 5 (Fig. 2 b)
adaptive       True: ``lambda_c / |[R_c]|`` (eq. 5); False: the constant ``colocam.loss.constant_lambda_c_224``
               rescaled to the loss resolution (Fig. 2 c)
pl_window      TCAM: pseudo-labels from the max of the CAMs of the frame and its ``pl_window - 1`` predecessors
drop_shots     Table 7: m random train shots per class removed, a different draw per seed
=============  ==============================================================================================

Generated variants (not in ``colocam.variants``): ``drop_shots_<m>`` for each m of ``colocam.stability.m``,
trained ``colocam.stability.repeats`` times (seeds 0..repeats-1); Fig. 2's sweeps ``colocam_n<n>``,
``tcam_n<n>``, ``colocam_lc<lambda_c>``, ``colocam_const_n<n>``. A generated variant whose configuration equals a
declared one is that variant (``colocam_n4`` is ``colocam``): :func:`canonical` names the one model both use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

CAM_METHODS = ("cam", "gradcam", "gradcampp", "smooth_gradcampp", "xgradcam", "layercam")  # torchcam's, colocam.cams
TERMS = ("pl", "crf", "asc", "coloc")
SAMPLINGS = ("adjacent", "interval", "gaussian")


@dataclass(frozen=True)
class Variant:
    """One resolved variant (see the module docstring for the fields)."""

    name: str
    backbone: str
    cam: str | None = None
    terms: tuple[str, ...] = ()
    n: int = 1
    sampling: str = "adjacent"
    lambda_c: float = 0.0
    adaptive: bool = True
    pl_window: int = 1
    drop_shots: int = 0

    @property
    def trained(self) -> bool:
        """A decoder is trained (False: the classifier's CAM is the localization map)."""
        return self.cam is None

    def key(self) -> tuple:
        """Everything but the name: two variants with the same key are the same model."""
        d = asdict(self)
        d.pop("name")
        return tuple(sorted(d.items()))


def _fmt(value: float) -> str:
    return f"{value:g}".replace(".", "p")


def generated(cfg: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The variants config ``colocam.stability`` and ``colocam.figure2`` generate: name -> overrides."""
    out: dict[str, dict[str, Any]] = {}
    for m in cfg["stability"]["m"]:
        out[f"drop_shots_{m}"] = {"drop_shots": int(m)}
    fig = cfg["figure2"]
    for n in fig["n"]:
        out[f"colocam_n{n}"] = {"n": int(n)}
        out[f"tcam_n{n}"] = {**cfg["variants"]["tcam"], "pl_window": int(n)}
        out[f"colocam_const_n{n}"] = {"n": int(n), "adaptive": False}
    for lc in fig["lambda_c"]:
        out[f"colocam_lc{_fmt(float(lc))}"] = {"lambda_c": float(lc)}
    return out


def all_variants(cfg: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Declared (``colocam.variants``) and generated variants: name -> overrides."""
    declared = dict(cfg["variants"])
    gen = generated(cfg)
    clash = sorted(set(declared) & set(gen))
    if clash:
        raise ValueError(f"config 'colocam.variants' declares {clash}, names that colocam.stability / colocam.figure2 "
                         "generate; rename them")
    return {**declared, **gen}


def _check(name: str, v: Variant) -> None:
    where = f"config 'colocam.variants.{name}'"
    if v.cam is not None and v.cam not in CAM_METHODS:
        raise ValueError(f"{where}.cam is {v.cam!r}; allowed: {list(CAM_METHODS)}")
    if v.cam is None:
        unknown = sorted(set(v.terms) - set(TERMS))
        if unknown or not v.terms or "pl" not in v.terms:
            raise ValueError(f"{where}.terms is {list(v.terms)}; a subset of {list(TERMS)} with 'pl' "
                             "(the pseudo-labels start the localization, Sec. 3.1)")
        if "coloc" in v.terms and v.n < 2:
            raise ValueError(f"{where}: the coloc term (eq. 4) needs n >= 2 frames; n is {v.n}")
    if v.sampling not in SAMPLINGS:
        raise ValueError(f"{where}.sampling is {v.sampling!r}; allowed: {list(SAMPLINGS)}")
    if v.n < 1 or v.pl_window < 1 or v.drop_shots < 0:
        raise ValueError(f"{where}: n and pl_window must be >= 1 and drop_shots >= 0; got {v.n}, {v.pl_window}, "
                         f"{v.drop_shots}")


def variant(name: str, cfg: Mapping[str, Any]) -> Variant:
    """The variant ``name`` of config ``colocam`` (declared or generated), checked."""
    variants = all_variants(cfg)
    if name not in variants:
        raise ValueError(f"unknown CoLo-CAM variant {name!r}; config 'colocam.variants' defines {sorted(cfg['variants'])} "
                         f"and colocam.stability / colocam.figure2 generate {sorted(generated(cfg))}")
    over = dict(variants[name])
    backbone = over.pop("backbone", cfg["classifier"]["backbone"])
    if "cam" in over:
        extra = sorted(set(over) - {"cam"})
        if extra:
            raise ValueError(f"config 'colocam.variants.{name}': a CAM-method row takes only 'cam' and 'backbone'; "
                             f"got {extra}")
        v = Variant(name=name, backbone=backbone, cam=over["cam"])
    else:
        fields = {**cfg["defaults"], **over}
        unknown = sorted(set(fields) - set(Variant.__dataclass_fields__) | set(fields) & {"name", "cam"})
        if unknown:
            raise ValueError(f"config 'colocam.variants.{name}': unknown keys {unknown}")
        fields["terms"] = tuple(fields["terms"])
        v = Variant(name=name, backbone=backbone, **fields)
    _check(name, v)
    return v


def canonical(name: str, cfg: Mapping[str, Any]) -> str:
    """The first variant (declared before generated, in config order) with the configuration of ``name``."""
    key = variant(name, cfg).key()
    for other in all_variants(cfg):
        if variant(other, cfg).key() == key:
            return other
    return name


def seeds(name: str, cfg: Mapping[str, Any]) -> int:
    """Trained models of a variant: ``stability.repeats`` for Table 7's, else ``colocam.seeds``."""
    return int(cfg["stability"]["repeats"]) if variant(name, cfg).drop_shots else int(cfg["seeds"])
