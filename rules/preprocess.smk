# Stage 2: shared preprocessing (weakseg.preprocess, weakseg.features). The CPU products
# of a dataset are computed by one job per unit (video, image group or chunk), all
# products of the unit in one process; GPU products (box features) by one job per
# dataset and product, so a GPU job loads its model once. Units are known once the
# dataset exists, hence the dataset_units checkpoint.


checkpoint dataset_units:
    input:
        index=f"{RESULTS}/data/{{dataset}}/index.parquet",
    output:
        f"{RESULTS}/data/{{dataset}}/units.json",
    params:
        chunk=config["preprocess"]["chunk"],
    log:
        f"{RESULTS}/logs/data/units_{{dataset}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/data/units_{{dataset}}.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/dataset_units.py"


for _dataset in PRE_DATASETS:

    rule:
        name:
            f"preprocess_{_dataset}"
        input:
            index=f"{RESULTS}/data/{_dataset}/index.parquet",
            units=f"{RESULTS}/data/{_dataset}/units.json",
        output:
            **{p: f"{RESULTS}/pre/{_dataset}/{{unit}}/{p}.npz" for p in unit_products(_dataset)},
        params:
            products={p: PRODUCTS[p] for p in unit_products(_dataset)},
            unit_items=lambda wc, _d=_dataset: units_of(_d)[wc.unit],
        log:
            f"{RESULTS}/logs/pre/{_dataset}/{{unit}}.log",
        benchmark:
            f"{RESULTS}/benchmarks/pre/{_dataset}/{{unit}}.tsv"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=30,
        conda:
            "../envs/preprocess.yaml"
        script:
            "../scripts/preprocess_unit.py"


rule features:
    input:
        unpack(feature_inputs),
    output:
        f"{RESULTS}/features/{{dataset}}/{{product}}.npz",
    wildcard_constraints:
        product="|".join(GPU_PRODUCTS) or "^$",
    params:
        cfg=lambda wc: PRODUCTS[wc.product],
    log:
        f"{RESULTS}/logs/features/{{dataset}}/{{product}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/features/{{dataset}}/{{product}}.tsv"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=lambda wc: gpu_units(PRODUCTS[wc.product].get("device", "auto")),
    conda:
        "../envs/preprocess.yaml"
    script:
        "../scripts/features.py"


rule preprocess:
    input:
        preprocess_targets,
    localrule: True
