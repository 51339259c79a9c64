# Stage 1: datasets in the canonical format (weakseg.data). The synthetic profile is
# generated here; real-dataset download and conversion rules come with issue #9.


rule synthetic_dataset:
    output:
        index=f"{RESULTS}/data/{{dataset}}/index.parquet",
        meta=f"{RESULTS}/data/{{dataset}}/meta.json",
    wildcard_constraints:
        dataset="|".join(SYNTHETIC_DATASETS),
    params:
        synthetic=config["synthetic"],
    log:
        f"{RESULTS}/logs/data/{{dataset}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/data/{{dataset}}.tsv"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=20,
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/synthetic_dataset.py"


rule real_dataset:
    output:
        index=f"{RESULTS}/data/{{dataset}}/index.parquet",
        meta=f"{RESULTS}/data/{{dataset}}/meta.json",
    wildcard_constraints:
        dataset="|".join(REAL_DATASETS) or "^$",
    params:
        fmt=lambda wc: REAL_DATASETS[wc.dataset]["format"],
        root=lambda wc: os.path.join(workflow.basedir, REAL_DATASETS[wc.dataset]["root"]),
        # the converter's keyword options: the entry minus format/root; every one is a path
        # (schema: splits), resolved like root
        options=lambda wc: {k: os.path.join(workflow.basedir, v) for k, v in REAL_DATASETS[wc.dataset].items()
                            if k not in ("format", "root")},
    log:
        f"{RESULTS}/logs/data/{{dataset}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/data/{{dataset}}.tsv"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=30,
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/real_dataset.py"


rule dataset_preview:
    input:
        index=f"{RESULTS}/data/{{dataset}}/index.parquet",
    output:
        f"{RESULTS}/tables/data/previews/{{dataset}}.png",
    log:
        f"{RESULTS}/logs/data/preview_{{dataset}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/data/preview_{{dataset}}.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/dataset_preview.py"


rule data:
    input:
        [f"{dataset_dir(d)}/index.parquet" for d in profile_datasets()],
        [f"{RESULTS}/tables/data/previews/{d}.png" for d in profile_datasets()],
    localrule: True
