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

from weakseg.data.benchmarks import load_benchmarks, resolve_profile
from weakseg.preprocess.run import GPU_KINDS, check_products, with_dependencies
from weakseg.tables.specs import PAPERS, load_paper
from weakseg.workflow import check_enabled_methods, eval_path, table_spec


validate(config, schema="../schemas/config.schema.yaml")

RESULTS = config["results"]
PROFILE = config["dataset_profile"]
BENCH_TO_DATASET = resolve_profile(config)
BENCHMARKS = load_benchmarks()
SYNTHETIC_DATASETS = sorted(config["synthetic"]["datasets"])
ENABLED = check_enabled_methods(config["methods"]["enabled"])
PRODUCTS = config["preprocess"]["products"]
check_products(PRODUCTS)
GPU_PRODUCTS = sorted(p for p, c in PRODUCTS.items() if c["kind"] in GPU_KINDS)
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


def built_products(dataset):
    """Products `preprocess.build` asks for on the benchmarks the profile maps to `dataset`,
    with their dependencies, dependencies first."""
    build = config["preprocess"]["build"]
    benches = [b for b in build if BENCH_TO_DATASET[b] == dataset]
    video = any(BENCHMARKS[b].kind == "video" for b in benches)
    wanted = list(dict.fromkeys(p for b in benches for p in build[b]))
    return with_dependencies(PRODUCTS, wanted, video)


def unit_products(dataset):
    """The CPU products one unit job of `dataset` computes."""
    return [p for p in built_products(dataset) if p not in GPU_PRODUCTS]


PRE_DATASETS = sorted(d for d in set(BENCH_TO_DATASET.values()) if built_products(d))


def unit_product_path(dataset, unit, product):
    return f"{RESULTS}/pre/{dataset}/{unit}/{product}.npz"


def feature_inputs(wildcards):
    """The dataset, and every unit file of the boxes product a box-feature product pools over."""
    inputs = {"index": f"{dataset_dir(wildcards.dataset)}/index.parquet"}
    boxes = PRODUCTS[wildcards.product].get("boxes")
    if boxes:
        units = units_of(wildcards.dataset)
        inputs["boxes"] = [unit_product_path(wildcards.dataset, u, boxes) for u in sorted(units)]
    return inputs


def preprocess_targets(wildcards):
    """Every product of `preprocess.build`: unit files, and per-dataset feature files."""
    targets = []
    for d in PRE_DATASETS:
        targets += [unit_product_path(d, u, p) for u in sorted(units_of(d)) for p in unit_products(d)]
        targets += [f"{RESULTS}/features/{d}/{p}.npz" for p in built_products(d) if p in GPU_PRODUCTS]
    return targets
