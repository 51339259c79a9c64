# M-CNN (Tokmakov et al.): one job per (variant, seed) trains a model (weakseg.methods.mcnn),
# fine-tuned variants wait for the model they start from; one job per (dataset, variant)
# evaluates every seed's model: IoU on image datasets, co-localization CorLoc on video datasets.


rule mcnn_train:
    input:
        unpack(mcnn_train_inputs),
    output:
        f"{RESULTS}/mcnn/models/{{variant}}/seed{{seed}}.pt",
    wildcard_constraints:
        seed=r"\d+",
    params:
        cfg=lambda wc: mcnn_params(MCNN_TRAIN_KEYS, wc.variant),
    log:
        f"{RESULTS}/logs/mcnn/train/{{variant}}/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/mcnn/train/{{variant}}/seed{{seed}}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=120,
        gpu=gpu_units(config["mcnn"]["device"]),
    conda:
        "../envs/torch.yaml"
    script:
        "../scripts/mcnn_train.py"


rule mcnn_evaluate:
    input:
        unpack(mcnn_eval_inputs),
    output:
        f"{RESULTS}/eval/mcnn/{{dataset}}/{{variant}}.parquet",
    params:
        cfg=mcnn_params(MCNN_EVAL_KEYS),
        kind=lambda wc: "video" if wc.dataset == method_dataset("mcnn", "videos") else "images",
        superpixels=config["preprocess"]["products"][config["mcnn"]["colocalization"]["superpixels"]],
    log:
        f"{RESULTS}/logs/eval/mcnn/{{dataset}}/{{variant}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/eval/mcnn/{{dataset}}/{{variant}}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
        gpu=gpu_units(config["mcnn"]["device"]),
    conda:
        "../envs/torch.yaml"
    script:
        "../scripts/mcnn_evaluate.py"
