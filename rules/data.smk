# Stage 1: datasets in the canonical format (weakseg.data). The synthetic profile is
# generated here; real benchmarks are converted from their official layout, on disk or
# downloaded (resumable, checksum-verified, atomic) from config 'real_datasets.<name>.download'.


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


rule download_file:
    output:
        f"{DOWNLOADS}/{{dataset}}/files/{{file}}",
    wildcard_constraints:
        dataset="|".join(DOWNLOADABLE) or "^$",
        file="[^/]+",
    params:
        remote=lambda wc: download_file(wc.dataset, wc.file),
    log:
        f"{DOWNLOADS}/{{dataset}}/logs/{{file}}.log",
    localrule: True  # on a cluster, the submit host has the network
    threads: 1
    resources:
        mem_mb=300,
        runtime=720,
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/download_file.py"


rule extract_download:
    input:
        lambda wc: [f"{DOWNLOADS}/{wc.dataset}/files/{f.name}" for f in REAL[wc.dataset].files],
    output:
        directory(f"{DOWNLOADS}/{{dataset}}/tree"),
    wildcard_constraints:
        dataset="|".join(DOWNLOADABLE) or "^$",
    params:
        files=lambda wc: REAL[wc.dataset].files,
    log:
        f"{DOWNLOADS}/{{dataset}}/logs/extract.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=500,
        runtime=240,
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/extract_download.py"


rule real_dataset:
    input:
        lambda wc: REAL[wc.dataset].trees,
    output:
        index=f"{RESULTS}/data/{{dataset}}/index.parquet",
        meta=f"{RESULTS}/data/{{dataset}}/meta.json",
    wildcard_constraints:
        dataset="|".join(REAL) or "^$",
    params:
        real=lambda wc: REAL[wc.dataset],
    log:
        f"{RESULTS}/logs/data/{{dataset}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/data/{{dataset}}.tsv"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=240,
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/real_dataset.py"


rule dataset_preview:
    input:
        index=f"{RESULTS}/data/{{dataset}}/index.parquet",
    output:
        report(f"{RESULTS}/tables/data/previews/{{dataset}}.png", caption="report/preview.rst", category="datasets",
               labels={"dataset": "{dataset}"}),
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


# One target per dataset: `snakemake --cores 2 data_<name>` converts it (downloading first
# when its root is in the downloaded tree) and draws its preview.
for _name in [*SYNTHETIC_DATASETS, *REAL]:

    rule:
        name:
            f"data_{_name}"
        input:
            f"{dataset_dir(_name)}/index.parquet",
            f"{RESULTS}/tables/data/previews/{_name}.png",
        localrule: True
