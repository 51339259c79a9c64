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
from weakseg.data.real import real_datasets
from weakseg.preprocess.run import GPU_KINDS, check_products, with_dependencies
from weakseg.methods import table_notes, unavailable_variants
from weakseg.tables.specs import PAPERS, load_paper
from weakseg.tables.figure_specs import FIGURE2_CAPTIONS, QUALITATIVE
from weakseg.workflow import nvidia_gpu_visible, check_backbones, check_enabled_methods, eval_path, table_spec


validate(config, schema="../schemas/config.schema.yaml")

PROFILE = config["dataset_profile"]
# Each dataset profile has its own tree (results/synthetic/..., results/real/...).
RESULTS = f"{config['results']}/{PROFILE}"
BENCH_TO_DATASET = resolve_profile(config)
BENCHMARKS = load_benchmarks()
SYNTHETIC_DATASETS = sorted(config["synthetic"]["datasets"])
ENABLED = check_enabled_methods(config["methods"]["enabled"])
check_backbones(config)
PRODUCTS = config["preprocess"]["products"]
check_products(PRODUCTS)
GPU_PRODUCTS = sorted(p for p, c in PRODUCTS.items() if c["kind"] in GPU_KINDS)
BUILD = config["preprocess"]["build"].get(PROFILE, {})
_unknown = {b: sorted(set(ps) - set(PRODUCTS)) for b, ps in BUILD.items()}
_unknown = {b: ps for b, ps in _unknown.items() if ps or b not in BENCH_TO_DATASET}
if _unknown:
    raise ValueError(
        f"config 'preprocess.build.{PROFILE}' names unknown benchmarks or products {_unknown}; "
        f"benchmarks of the profile: {sorted(BENCH_TO_DATASET)}, products: {sorted(PRODUCTS)}"
    )
REAL = real_datasets(config, workflow.basedir)
DOWNLOADS = config["downloads"]
DOWNLOADABLE = sorted(name for name, real in REAL.items() if real.files)

_undefined = sorted(set(BENCH_TO_DATASET.values()) - set(SYNTHETIC_DATASETS) - set(config["real_datasets"]))
if _undefined:
    raise ValueError(
        f"config 'profiles.{PROFILE}' maps benchmarks to datasets {_undefined} that neither "
        f"'synthetic.datasets' nor 'real_datasets' defines"
    )


def download_file(dataset, name):
    """The RemoteFile `name` of real dataset `dataset` (config 'real_datasets.<dataset>.download')."""
    files = {f.name: f for f in REAL[dataset].files}
    if name not in files:
        raise ValueError(f"config 'real_datasets.{dataset}.download' has no file {name!r}; it has {sorted(files)}")
    return files[name]


def dataset_dir(name):
    return f"{RESULTS}/data/{name}"


def profile_datasets():
    """Dataset names the active profile measures on."""
    return sorted(set(BENCH_TO_DATASET.values()))


def table_files(paper, table):
    return expand(f"{RESULTS}/tables/{paper}/{table}.{{ext}}", ext=["csv", "md", "png", "provenance.json"])


def enabled_tables():
    """(paper, table id) of every table of every enabled method."""
    return [(p, t) for p in ENABLED for t in load_paper(p).tables]


def table_evaluations(wildcards):
    """[variant, benchmark, evaluation path] for every measured cell group of a table."""
    spec = table_spec(wildcards.paper, wildcards.table, ENABLED)
    skip = unavailable_variants(wildcards.paper, config)
    return [
        [variant, bench, eval_path(RESULTS, wildcards.paper, BENCH_TO_DATASET[bench], variant)]
        for variant, bench in sorted(spec.requirements())
        if variant not in skip
    ]


def table_inputs(wildcards):
    evals = table_evaluations(wildcards)
    return {
        "evals": [path for _, _, path in evals],
        "datasets": sorted({f"{dataset_dir(BENCH_TO_DATASET[b])}/index.parquet" for _, b, _ in evals}),
    }


def units_file(dataset):
    return checkpoints.dataset_units.get(dataset=dataset).output[0]


def units_info(dataset):
    """The dataset's units.json (after the dataset_units checkpoint): kind, units, classes, splits."""
    with open(units_file(dataset)) as fh:
        return json.load(fh)


def units_of(dataset):
    """Unit id -> items of a dataset."""
    return units_info(dataset)["units"]


def built_products(dataset):
    """Products `preprocess.build` asks for on the benchmarks the profile maps to `dataset`,
    with their dependencies, dependencies first."""
    benches = [b for b in BUILD if BENCH_TO_DATASET[b] == dataset]
    video = any(BENCHMARKS[b].kind == "video" for b in benches)
    wanted = list(dict.fromkeys(p for b in benches for p in BUILD[b]))
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


# Foreground Clustering (rules/fc.smk)
def fc_variant(name):
    from weakseg.methods.fc.variants import variant

    return variant(name, config["fc"]["variants"][name])


def fc_groups(dataset, variant_name):
    """Solve name -> units of `dataset` for one FC variant (weakseg.methods.fc.targets)."""
    from weakseg.methods.fc.targets import solve_groups

    return solve_groups(units_info(dataset), fc_variant(variant_name), config["fc"]["video_splits"])


def method_product(section, dataset, key):
    """The preprocessing product method `section` uses as `key` in the active profile (config
    '<section>.products.<profile>.<key>'), checked to be built for `dataset`."""
    where = f"{section}.products.{PROFILE}"
    if PROFILE not in config[section]["products"]:
        raise ValueError(f"config '{where}' is missing: {section} needs its products for profile {PROFILE!r}")
    product = config[section]["products"][PROFILE][key]
    if product not in built_products(dataset):
        raise ValueError(
            f"config '{where}.{key}' is {product!r}, which 'preprocess.build.{PROFILE}' does not build "
            f"for {dataset}; add it there for the benchmarks mapped to {dataset}"
        )
    return product


def method_dataset(section, role):
    """The dataset that config '<section>.benchmarks.<role>' maps to in the active profile."""
    bench = config[section]["benchmarks"][role]
    if bench not in BENCH_TO_DATASET:
        raise ValueError(f"config '{section}.benchmarks.{role}' is {bench!r}, which profile {PROFILE!r} does not map")
    return BENCH_TO_DATASET[bench]


def fc_solve_inputs(wildcards):
    """The products of every unit the variant's QPs cover, the box features, the index."""
    d = wildcards.dataset
    units = sorted({u for us in fc_groups(d, wildcards.variant).values() for u in us})
    inputs = {
        "index": f"{dataset_dir(d)}/index.parquet",
        "features": f"{RESULTS}/features/{d}/{method_product('fc', d, 'features')}.npz",
    }
    for key in ("superpixels", "boxes", "saliency", "dsift"):
        inputs[key] = [unit_product_path(d, u, method_product("fc", d, key)) for u in units]
    return inputs


def fc_eval_inputs(wildcards):
    d, name = wildcards.dataset, wildcards.variant
    source = fc_variant(name).source
    if source:
        files = [unit_product_path(d, u, source) for u in fc_groups(d, name)]
    else:
        files = [f"{RESULTS}/fc/{d}/{name}.npz"]
    return {"index": f"{dataset_dir(d)}/index.parquet", "predictions": files}


def gpu_units(device):
    """1 for a job that will run on a GPU (device 'cuda', or 'auto' where an NVIDIA GPU is visible), else 0:
    CPU jobs need not wait behind the one-GPU-at-a-time limit of the default profile."""
    if device != "auto":
        return int(device == "cuda")
    return int(nvidia_gpu_visible())


# M-CNN (rules/mcnn.smk)
def mcnn_variant(name):
    from weakseg.methods.mcnn.variants import variant

    return variant(name, config["mcnn"]["variants"])


def mcnn_model(variant, seed):
    return f"{RESULTS}/mcnn/models/{variant}/seed{seed}.pt"


def mcnn_train_inputs(wildcards):
    """The video index and the motion segments of the training videos; the image index when the
    variant adds images; the model it is fine-tuned from."""
    v = mcnn_variant(wildcards.variant)
    d = method_dataset("mcnn", "videos")
    splits = set(config["mcnn"]["train_splits"])
    units = sorted(u for u, s in units_info(d)["splits"].items() if splits & set(s))
    inputs = {
        "videos": f"{dataset_dir(d)}/index.parquet",
        "motion": [unit_product_path(d, u, method_product("mcnn", d, "motion")) for u in units],
    }
    if v.images:
        inputs["images"] = f"{dataset_dir(BENCH_TO_DATASET[v.images])}/index.parquet"
    if v.init:
        inputs["parent"] = mcnn_model(v.init, wildcards.seed)
    return inputs


MCNN_TRAIN_KEYS = ("train_splits", "pruning", "network", "sgd", "epochs", "image_batch", "label_inference",
                   "em_adapt", "finetune", "device")
MCNN_EVAL_KEYS = ("network", "colocalization", "eval_splits", "batch_size", "device")


def mcnn_params(keys, variant=None):
    """The part of config 'mcnn' a job uses (so that editing one variant or the evaluation does not
    retrain every model); with `variant`, the variants it is fine-tuned from too."""
    from weakseg.methods.mcnn.variants import lineage

    params = {k: config["mcnn"][k] for k in keys}
    if variant is not None:
        params["variants"] = {v: config["mcnn"]["variants"][v] for v in lineage(variant, config["mcnn"]["variants"])}
    return params


def mcnn_eval_inputs(wildcards):
    return {
        "index": f"{dataset_dir(wildcards.dataset)}/index.parquet",
        "models": [mcnn_model(wildcards.variant, s) for s in range(config["mcnn"]["seeds"])],
    }


# SSNM (rules/ssnm.smk)
def ssnm_params(variant):
    """Config 'ssnm' with only this variant (editing one variant retrains only that one)."""
    if variant not in config["ssnm"]["variants"]:
        raise ValueError(f"unknown SSNM variant {variant!r}; config 'ssnm.variants' defines "
                         f"{sorted(config['ssnm']['variants'])}")
    return {**config["ssnm"], "variants": {variant: config["ssnm"]["variants"][variant]}}


# Pinheiro & Collobert (rules/mil.smk)
MIL_TRAIN_KEYS = ("network", "input_size", "lse_r", "sgd", "jitter", "epochs", "device")
MIL_EVAL_KEYS = ("network", "lse_r", "threshold_grid", "eval_splits", "device")
MIL_PRIOR_PRODUCT = {"ilp_sppxl": "superpixels", "ilp_bb": "boxes", "ilp_seg": "segments"}


def mil_params(keys, variant=None):
    params = {k: config["mil"][k] for k in keys}
    if variant is not None:
        if variant not in config["mil"]["variants"]:
            raise ValueError(f"unknown MIL variant {variant!r}; config 'mil.variants' defines "
                             f"{sorted(config['mil']['variants'])}")
        params["variant"] = config["mil"]["variants"][variant]
    return params


def mil_eval_inputs(wildcards):
    """The models of the variant's aggregation (every seed), the index, and the unit files of the
    product its smoothing prior reads."""
    v = mil_params((), wildcards.variant)["variant"]
    d = wildcards.dataset
    inputs = {
        "index": f"{dataset_dir(d)}/index.parquet",
        "models": [f"{RESULTS}/mil/models/{v['aggregation']}/seed{s}.pt" for s in range(config["mil"]["seeds"])],
    }
    if v["prior"] in MIL_PRIOR_PRODUCT:
        product = method_product("mil", d, MIL_PRIOR_PRODUCT[v["prior"]])
        inputs["prior"] = [unit_product_path(d, u, product) for u in sorted(units_of(d))]
    return inputs


# CoLo-CAM (rules/colocam.smk)
def colocam_variant(name):
    from weakseg.methods.colocam.variants import variant

    return variant(name, config["colocam"])


def colocam_classifier(dataset, backbone):
    return f"{RESULTS}/colocam/classifiers/{dataset}/{backbone}.pt"


def colocam_models(dataset, name):
    """The decoder models of a variant: those of the first variant with the same configuration
    (`colocam_n4` is `colocam`), one per seed (Table 7's: one per repeat)."""
    from weakseg.methods.colocam.variants import canonical, seeds

    model = canonical(name, config["colocam"])
    return [f"{RESULTS}/colocam/models/{dataset}/{model}/seed{s}.pt" for s in range(seeds(name, config["colocam"]))]


COLOCAM_TRAIN_KEYS = ("train_splits", "input_size", "classifier", "device")
COLOCAM_DECODER_KEYS = ("train_splits", "input_size", "classifier", "decoder", "loss", "device")
COLOCAM_EVAL_KEYS = ("eval_split", "input_size", "classifier", "decoder", "loss", "cost", "device")


def colocam_params(keys, variant=None):
    """The part of config 'colocam' a job uses, with the resolved variant (so that editing one
    variant or the evaluation does not retrain every model)."""
    from dataclasses import asdict

    params = {k: config["colocam"][k] for k in keys}
    if variant is not None:
        params["variant"] = asdict(colocam_variant(variant))
    return params


def colocam_decoder_inputs(wildcards):
    v = colocam_variant(wildcards.variant)
    inputs = {
        "index": f"{dataset_dir(wildcards.dataset)}/index.parquet",
        "classifier": colocam_classifier(wildcards.dataset, v.backbone),
        "cams": f"{RESULTS}/colocam/cams/{wildcards.dataset}/{v.backbone}.npz",
    }
    if config["colocam"]["decoder"]["encoder_cache"]:
        inputs["encoder"] = f"{RESULTS}/colocam/encoder/{wildcards.dataset}/{v.backbone}.pt"
    return inputs


def colocam_eval_inputs(wildcards):
    v = colocam_variant(wildcards.variant)
    inputs = {
        "index": f"{dataset_dir(wildcards.dataset)}/index.parquet",
        "classifier": colocam_classifier(wildcards.dataset, v.backbone),
    }
    if v.trained:
        inputs["models"] = colocam_models(wildcards.dataset, wildcards.variant)
    return inputs


def colocam_figure2_inputs(wildcards):
    """Evaluations and models of Fig. 2's sweeps on the dataset of benchmark yto_v1, and the loss timing."""
    from weakseg.methods.colocam.figure2_sweep import sweep_variants

    if "yto_v1" not in BENCH_TO_DATASET:
        raise ValueError(f"CoLo-CAM's Figure 2 runs on benchmark yto_v1, which profile {PROFILE!r} does not map; "
                         f"map it under 'profiles.{PROFILE}' or build single tables (e.g. fc_table4)")
    d = BENCH_TO_DATASET["yto_v1"]
    names = sweep_variants(config["colocam"])
    return {
        "evals": [eval_path(RESULTS, "colocam", d, n) for n in names],
        "models": [m for n in names for m in colocam_models(d, n)],
        "loss_time": f"{RESULTS}/colocam/loss_time.csv",
    }


def method_figures():
    """Figure files of the enabled methods (built with `tables`): CoLo-CAM's Figure 2 and the qualitative figures."""
    figure2 = [f"{RESULTS}/tables/colocam/figure2_{p}.png" for p in "abcd"] if "colocam" in ENABLED else []
    return figure2 + qualitative_figures()
# Qualitative figures (rules/figures.smk): weakseg.methods.<paper>.figures names the benchmark and variants it draws
def figure_dataset(paper):
    """The dataset the profile maps the benchmark of `paper`'s qualitative figure to."""
    bench = QUALITATIVE[paper].benchmark
    if bench not in BENCH_TO_DATASET:
        raise ValueError(f"the {paper} qualitative figure draws benchmark {bench!r}, which profile {PROFILE!r} "
                         f"does not map; map it under 'profiles.{PROFILE}'")
    return BENCH_TO_DATASET[bench]


def qualitative_inputs(wildcards):
    """The dataset index and the seed-0 models (cached predictions for FC) of the variants the figure draws."""
    from types import SimpleNamespace

    paper = wildcards.paper
    variants, d = list(QUALITATIVE[paper].variants), figure_dataset(paper)
    inputs = {"index": f"{dataset_dir(d)}/index.parquet"}
    if paper == "fc":
        inputs["predictions"] = f"{RESULTS}/fc/{d}/{variants[0]}.npz"
    elif paper == "mcnn":
        inputs.update({v: mcnn_model(v, 0) for v in variants})
    elif paper == "ssnm":
        inputs.update({v: f"{RESULTS}/ssnm/models/{v}/seed0.pt" for v in variants})
    elif paper == "mil":
        smoothing = mil_eval_inputs(SimpleNamespace(dataset=d, variant=variants[-1]))
        inputs.update(model=smoothing["models"][0], prior=smoothing["prior"])
    else:
        for v in variants:
            inputs[f"classifier_{v}"] = colocam_classifier(d, colocam_variant(v).backbone)
            inputs[f"eval_{v}"] = eval_path(RESULTS, "colocam", d, v)
            if colocam_variant(v).trained:
                inputs[f"model_{v}"] = colocam_models(d, v)[0]
    return inputs


def qualitative_params(paper):
    """The part of the paper's config section its figure uses."""
    from dataclasses import asdict

    variants = list(QUALITATIVE[paper].variants)
    if paper == "fc":
        return {}
    if paper == "mcnn":
        return mcnn_params(("network", "batch_size", "device"))
    if paper == "ssnm":
        return {k: config["ssnm"][k] for k in ("network", "input_size", "group_size", "threshold", "device")}
    if paper == "mil":
        return mil_params(MIL_EVAL_KEYS, variants[-1])
    return {**colocam_params(COLOCAM_EVAL_KEYS), "variants": {v: asdict(colocam_variant(v)) for v in variants}}


def qualitative_figures():
    """The qualitative figures of the enabled methods whose benchmark the profile maps (built with `tables`)."""
    return [f"{RESULTS}/tables/{p}/qualitative.png" for p in ENABLED if QUALITATIVE[p].benchmark in BENCH_TO_DATASET]
