# Helpers shared by every .smk file (config validation, dataset profile, paths).
# All logic that can live in the library does (weakseg.workflow); this file wires it.

import importlib.util
import os

from snakemake.utils import validate

# Rules and jobs import the installed library (`pip install -e .`, or the conda envs
# of envs/), which must be this checkout, or jobs would run other code.
_spec = importlib.util.find_spec("weakseg")
if _spec is None or not os.path.samefile(
    os.path.dirname(_spec.origin), os.path.join(workflow.basedir, "src", "weakseg")
):
    raise ImportError(
        f"the weakseg library of this checkout is not installed in this environment; "
        f"run `pip install -e {workflow.basedir}` (found: {_spec.origin if _spec else 'none'})"
    )

import json

from weakseg.data.benchmarks import resolve_profile
from weakseg.preprocess.run import DEPENDENCY_KINDS, check_products
from weakseg.tables.specs import PAPERS, load_paper
from weakseg.workflow import check_enabled_methods, eval_path, table_spec


validate(config, schema="../schemas/config.schema.yaml")

RESULTS = config["results"]
PROFILE = config["dataset_profile"]
BENCH_TO_DATASET = resolve_profile(config)
SYNTHETIC_DATASETS = sorted(config["synthetic"]["datasets"])
ENABLED = check_enabled_methods(config["methods"]["enabled"])
PRODUCTS = config["preprocess"]["products"]
check_products(PRODUCTS)
GPU_PRODUCTS = sorted(p for p, c in PRODUCTS.items() if c["kind"] == "box_features")
CPU_PRODUCTS = sorted(set(PRODUCTS) - set(GPU_PRODUCTS))
_unknown = {b: sorted(set(ps) - set(PRODUCTS)) for b, ps in config["preprocess"]["build"].items()}
_unknown = {b: ps for b, ps in _unknown.items() if ps or b not in BENCH_TO_DATASET}
if _unknown:
    raise ValueError(
        f"config 'preprocess.build' names unknown benchmarks or products {_unknown}; "
        f"benchmarks of the profile: {sorted(BENCH_TO_DATASET)}, products: {sorted(PRODUCTS)}"
    )

_undefined = sorted(set(BENCH_TO_DATASET.values()) - set(SYNTHETIC_DATASETS))
if PROFILE == "synthetic" and _undefined:
    raise ValueError(
        f"config 'profiles.synthetic' maps benchmarks to datasets {_undefined} that "
        f"'synthetic.datasets' does not define; defined: {SYNTHETIC_DATASETS}"
    )


def dataset_dir(name):
    return f"{RESULTS}/data/{name}"


def profile_datasets():
    """Dataset names the active profile measures on."""
    return sorted(set(BENCH_TO_DATASET.values()))


def table_files(paper, table):
    return expand(f"{RESULTS}/tables/{paper}/{table}.{{ext}}", ext=["csv", "md", "png"])


def enabled_tables():
    """(paper, table id) of every table of every enabled method."""
    return [(p, t) for p in ENABLED for t in load_paper(p).tables]


def table_evaluations(wildcards):
    """[variant, benchmark, evaluation path] for every measured cell group of a table."""
    spec = table_spec(wildcards.paper, wildcards.table, ENABLED)
    return [
        [variant, bench, eval_path(RESULTS, wildcards.paper, BENCH_TO_DATASET[bench], variant)]
        for variant, bench in sorted(spec.requirements())
    ]


def table_inputs(wildcards):
    evals = table_evaluations(wildcards)
    return {
        "evals": [path for _, _, path in evals],
        "datasets": sorted({f"{dataset_dir(BENCH_TO_DATASET[b])}/index.parquet" for _, b, _ in evals}),
    }


def units_file(dataset):
    return checkpoints.dataset_units.get(dataset=dataset).output[0]


def units_of(dataset):
    """Unit id -> items of a dataset (after the dataset_units checkpoint)."""
    with open(units_file(dataset)) as fh:
        return json.load(fh)["units"]


def dataset_kind(dataset):
    with open(units_file(dataset)) as fh:
        return json.load(fh)["kind"]


def product_path(dataset, unit, product):
    stage = "features" if product in GPU_PRODUCTS else "pre"
    return f"{RESULTS}/{stage}/{dataset}/{unit}/{product}.npz"


def product_dependencies(wildcards):
    """Dependency key (flow, superpixels, boxes) -> unit file of the product it names."""
    cfg = PRODUCTS[wildcards.product]
    deps = {k: product_path(wildcards.dataset, wildcards.unit, cfg[k]) for k in DEPENDENCY_KINDS if k in cfg}
    if cfg["kind"] == "saliency" and dataset_kind(wildcards.dataset) != "video":
        deps.pop("flow", None)  # motion saliency only where there is motion
    return deps


def product_inputs(wildcards):
    return {"index": f"{dataset_dir(wildcards.dataset)}/index.parquet", **product_dependencies(wildcards)}


def preprocess_targets(wildcards):
    """Every product of `preprocess.build` on every unit of its benchmark's dataset."""
    wanted = {}
    for bench, products in config["preprocess"]["build"].items():
        wanted.setdefault(BENCH_TO_DATASET[bench], set()).update(products)
    return [
        product_path(d, unit, p)
        for d, products in sorted(wanted.items())
        for unit in units_of(d)
        for p in sorted(products)
    ]
