# Pinheiro & Collobert: one job per (aggregation, seed) trains the MIL network on the
# classification set (weakseg.methods.mil); one job per (dataset, variant) runs inference with the
# variant's priors on the VOC-like images (thresholds of SP-bb / SP-seg tuned on the val split).


rule mil_train:
    input:
        index=lambda wc: f"{dataset_dir(method_dataset('mil', 'train'))}/index.parquet",
        labels=lambda wc: f"{dataset_dir(method_dataset('mil', 'images'))}/index.parquet",
    output:
        f"{RESULTS}/mil/models/{{aggregation}}/seed{{seed}}.pt",
    wildcard_constraints:
        seed=r"\d+",
        aggregation="max|sum|lse",
    params:
        cfg=lambda wc: mil_params(MIL_TRAIN_KEYS),
    log:
        f"{RESULTS}/logs/mil/train/{{aggregation}}/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/mil/train/{{aggregation}}/seed{{seed}}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=120,
        gpu=gpu_units(config["mil"]["device"]),
    conda:
        "../envs/torch.yaml"
    script:
        "../scripts/mil_train.py"


rule mil_evaluate:
    input:
        unpack(mil_eval_inputs),
    output:
        f"{RESULTS}/eval/mil/{{dataset}}/{{variant}}.parquet",
    params:
        cfg=lambda wc: mil_params(MIL_EVAL_KEYS, wc.variant),
    log:
        f"{RESULTS}/logs/eval/mil/{{dataset}}/{{variant}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/eval/mil/{{dataset}}/{{variant}}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
        gpu=gpu_units(config["mil"]["device"]),
    conda:
        "../envs/torch.yaml"
    script:
        "../scripts/mil_evaluate.py"
