# SSNM (Zhang et al.): one job per (variant, seed) trains a model on the co-category groups of
# `ssnm.benchmarks.train` (weakseg.methods.ssnm); one job per (dataset, variant) segments every
# image of a co-segmentation dataset in groups of its class and scores P and J.


rule ssnm_train:
    input:
        index=lambda wc: f"{dataset_dir(method_dataset('ssnm', 'train'))}/index.parquet",
    output:
        f"{RESULTS}/ssnm/models/{{variant}}/seed{{seed}}.pt",
    wildcard_constraints:
        seed=r"\d+",
    params:
        cfg=lambda wc: ssnm_params(wc.variant),
    log:
        f"{RESULTS}/logs/ssnm/train/{{variant}}/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/ssnm/train/{{variant}}/seed{{seed}}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=120,
        gpu=gpu_units(config["ssnm"]["device"]),
    conda:
        "../envs/torch.yaml"
    script:
        "../scripts/ssnm_train.py"


rule ssnm_evaluate:
    input:
        index=f"{RESULTS}/data/{{dataset}}/index.parquet",
        models=lambda wc: [f"{RESULTS}/ssnm/models/{wc.variant}/seed{s}.pt" for s in range(config["ssnm"]["seeds"])],
    output:
        f"{RESULTS}/eval/ssnm/{{dataset}}/{{variant}}.parquet",
    params:
        cfg=lambda wc: ssnm_params(wc.variant),
    log:
        f"{RESULTS}/logs/eval/ssnm/{{dataset}}/{{variant}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/eval/ssnm/{{dataset}}/{{variant}}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
        gpu=gpu_units(config["ssnm"]["device"]),
    conda:
        "../envs/torch.yaml"
    script:
        "../scripts/ssnm_evaluate.py"
