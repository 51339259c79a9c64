"""Every M-CNN and EM-Adapt row of Tables 1-4 as one configuration of the same training code.

=============  ==============================================================================
field          meaning
=============  ==============================================================================
labels         latent-label step on video frames: ``motion`` (Sec. 3.2 label prediction with
               soft motion cues), ``motion_hard`` (motion segments used as labels, 'M-CNN*
               hard'), ``em_adapt`` (EM-Adapt's adaptive-bias step, Papandreou et al.)
fov            ``large`` or ``small`` (Sec. 4.3)
init           None: ImageNet backbone, new head; else the variant whose trained model this
               one fine-tunes (same seed)
shots          ``pruned``: every shot kept by Sec. 4.2; ``selected``: one shot per video chosen
               by Sec. 3.3 with the ``init`` model (fine-tuning)
images         None, or the benchmark whose train images (image labels only, EM-Adapt label
               step) are added to the shots (Sec. 4.4)
image_classes  ``video``: the model keeps the video classes and uses the images that contain
               one of them (Tables 1-2); ``all``: the model has every class of the image
               benchmark (Table 3, 20 classes)
stage          which epoch count of ``mcnn.epochs`` applies: ``train``, ``finetune``, ``images``
=============  ==============================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LABEL_STEPS = ("motion", "motion_hard", "em_adapt")
SHOTS = ("pruned", "selected")
IMAGE_CLASSES = ("video", "all")


@dataclass(frozen=True)
class Variant:
    name: str
    labels: str
    fov: str
    init: str | None = None
    shots: str = "pruned"
    images: str | None = None
    image_classes: str = "video"

    @property
    def stage(self) -> str:
        if self.images:
            return "images"
        return "finetune" if self.init else "train"

    @property
    def alpha_key(self) -> str:
        """The label-inference alpha this stage uses (Sec. 4.2: 1 when training, 2 when fine-tuning)."""
        return "alpha" if self.stage == "train" else "alpha_finetune"


def _check_choice(name: str, key: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"config 'mcnn.variants.{name}.{key}' is {value!r}; allowed: {list(allowed)}")


def variant(name: str, variants: Mapping[str, Mapping[str, Any]]) -> Variant:
    """The variant ``name`` of config ``mcnn.variants``, checked (its ``init`` chain too)."""
    if name not in variants:
        raise ValueError(f"unknown M-CNN variant {name!r}; config 'mcnn.variants' defines {sorted(variants)}")
    cfg = variants[name]
    v = Variant(name=name, **cfg)
    _check_choice(name, "labels", v.labels, LABEL_STEPS)
    _check_choice(name, "shots", v.shots, SHOTS)
    _check_choice(name, "image_classes", v.image_classes, IMAGE_CLASSES)
    if v.shots == "selected" and not v.init:
        raise ValueError(f"config 'mcnn.variants.{name}': shots 'selected' (Sec. 3.3) needs an 'init' model "
                         "to select them with")
    if v.init is not None:
        if v.init not in variants or v.init == name:
            raise ValueError(f"config 'mcnn.variants.{name}.init' is {v.init!r}: not another variant of "
                             f"{sorted(variants)}")
        if variants[v.init]["fov"] != v.fov:
            raise ValueError(f"config 'mcnn.variants.{name}': fov {v.fov!r} differs from its init "
                             f"{v.init!r} ({variants[v.init]['fov']!r}); fine-tuning keeps the network")
    return v


def lineage(name: str, variants: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """``name`` and the variants it is fine-tuned from, the root first."""
    chain = [name]
    while (parent := variant(chain[-1], variants).init) is not None:
        if parent in chain:
            raise ValueError(f"config 'mcnn.variants': init cycle {' -> '.join(chain + [parent])}")
        chain.append(parent)
    return chain[::-1]
