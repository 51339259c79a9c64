# Stage 2: shared preprocessing (weakseg.preprocess, weakseg.features), one job per
# (dataset, unit, product). Units (videos, image groups, chunks) are known once the
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


rule preprocess_unit:
    input:
        unpack(product_inputs),
    output:
        f"{RESULTS}/pre/{{dataset}}/{{unit}}/{{product}}.npz",
    wildcard_constraints:
        product="|".join(CPU_PRODUCTS),
    params:
        cfg=lambda wc: PRODUCTS[wc.product],
        unit_items=lambda wc: units_of(wc.dataset)[wc.unit],
        deps=product_dependencies,
    log:
        f"{RESULTS}/logs/pre/{{dataset}}/{{unit}}/{{product}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/pre/{{dataset}}/{{unit}}/{{product}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../envs/preprocess.yaml"
    script:
        "../scripts/preprocess_unit.py"


rule features_unit:
    input:
        unpack(product_inputs),
    output:
        f"{RESULTS}/features/{{dataset}}/{{unit}}/{{product}}.npz",
    wildcard_constraints:
        product="|".join(GPU_PRODUCTS),
    params:
        cfg=lambda wc: PRODUCTS[wc.product],
        unit_items=lambda wc: units_of(wc.dataset)[wc.unit],
        deps=product_dependencies,
    log:
        f"{RESULTS}/logs/features/{{dataset}}/{{unit}}/{{product}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/features/{{dataset}}/{{unit}}/{{product}}.tsv"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=1,
    conda:
        "../envs/preprocess.yaml"
    script:
        "../scripts/preprocess_unit.py"


rule preprocess:
    input:
        preprocess_targets,
    localrule: True
