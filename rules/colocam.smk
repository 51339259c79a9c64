# CoLo-CAM (Belharbi et al.): per dataset, one frame classifier per backbone and the cache of its
# LayerCAM CAMs of the training frames; one decoder per (variant, seed); one evaluation per variant
# (CorLoc under both threshold protocols + the cost columns of Tables 1 and 4); Figure 2 from the
# sweeps (weakseg.methods.colocam). Variants with the same configuration share one model.


rule colocam_classifier:
    input:
        index=lambda wc: f"{dataset_dir(wc.dataset)}/index.parquet",
    output:
        f"{RESULTS}/colocam/classifiers/{{dataset}}/{{backbone}}.pt",
    params:
        cfg=lambda wc: colocam_params(COLOCAM_TRAIN_KEYS),
    log:
        f"{RESULTS}/logs/colocam/classifier/{{dataset}}/{{backbone}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/colocam/classifier/{{dataset}}/{{backbone}}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=120,
        gpu=gpu_units(config["colocam"]["device"]),
    conda:
        "../envs/torch.yaml"
    script:
        "../scripts/colocam_classifier.py"


rule colocam_cams:
    input:
        index=lambda wc: f"{dataset_dir(wc.dataset)}/index.parquet",
        classifier=lambda wc: colocam_classifier(wc.dataset, wc.backbone),
    output:
        f"{RESULTS}/colocam/cams/{{dataset}}/{{backbone}}.npz",
    params:
        cfg=lambda wc: colocam_params(COLOCAM_TRAIN_KEYS),
    log:
        f"{RESULTS}/logs/colocam/cams/{{dataset}}/{{backbone}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/colocam/cams/{{dataset}}/{{backbone}}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
        gpu=gpu_units(config["colocam"]["device"]),
    conda:
        "../envs/torch.yaml"
    script:
        "../scripts/colocam_cams.py"


rule colocam_encoder:
    input:
        index=lambda wc: f"{dataset_dir(wc.dataset)}/index.parquet",
        classifier=lambda wc: colocam_classifier(wc.dataset, wc.backbone),
    output:
        f"{RESULTS}/colocam/encoder/{{dataset}}/{{backbone}}.pt",
    params:
        cfg=lambda wc: colocam_params(COLOCAM_TRAIN_KEYS + ("decoder",)),
    log:
        f"{RESULTS}/logs/colocam/encoder/{{dataset}}/{{backbone}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/colocam/encoder/{{dataset}}/{{backbone}}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
        gpu=gpu_units(config["colocam"]["device"]),
    conda:
        "../envs/torch.yaml"
    script:
        "../scripts/colocam_encoder.py"


rule colocam_decoder:
    input:
        unpack(colocam_decoder_inputs),
    output:
        f"{RESULTS}/colocam/models/{{dataset}}/{{variant}}/seed{{seed}}.pt",
    wildcard_constraints:
        seed=r"\d+",
    params:
        cfg=lambda wc: colocam_params(COLOCAM_DECODER_KEYS, wc.variant),
    log:
        f"{RESULTS}/logs/colocam/decoder/{{dataset}}/{{variant}}/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/colocam/decoder/{{dataset}}/{{variant}}/seed{{seed}}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=120,
        gpu=gpu_units(config["colocam"]["device"]),
    conda:
        "../envs/torch.yaml"
    script:
        "../scripts/colocam_decoder.py"


rule colocam_evaluate:
    input:
        unpack(colocam_eval_inputs),
    output:
        f"{RESULTS}/eval/colocam/{{dataset}}/{{variant}}.parquet",
    params:
        cfg=lambda wc: colocam_params(COLOCAM_EVAL_KEYS, wc.variant),
    log:
        f"{RESULTS}/logs/eval/colocam/{{dataset}}/{{variant}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/eval/colocam/{{dataset}}/{{variant}}.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=gpu_units(config["colocam"]["device"]),
    conda:
        "../envs/torch.yaml"
    script:
        "../scripts/colocam_evaluate.py"


rule colocam_loss_time:
    output:
        f"{RESULTS}/colocam/loss_time.csv",
    params:
        figure=config["colocam"]["figure2"],
        loss=config["colocam"]["loss"],
        device=config["colocam"]["device"],
    log:
        f"{RESULTS}/logs/colocam/loss_time.log",
    benchmark:
        f"{RESULTS}/benchmarks/colocam/loss_time.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=gpu_units(config["colocam"]["device"]),
    conda:
        "../envs/torch.yaml"
    script:
        "../scripts/colocam_loss_time.py"


rule colocam_figure2:
    input:
        unpack(colocam_figure2_inputs),
    output:
        csv=f"{RESULTS}/tables/colocam/figure2.csv",
        png=[report(f"{RESULTS}/tables/colocam/figure2_{p}.png", caption="report/figure2.rst", category="colocam",
                    labels={"table": f"figure2_{p}", "file": "figure"}) for p in "abcd"],
    params:
        cfg=config["colocam"],
        dataset=lambda wc: BENCH_TO_DATASET["yto_v1"],
    log:
        f"{RESULTS}/logs/tables/colocam/figure2.log",
    benchmark:
        f"{RESULTS}/benchmarks/tables/colocam/figure2.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/torch.yaml"
    script:
        "../scripts/colocam_figure2.py"
