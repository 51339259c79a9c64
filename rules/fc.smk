# Foreground Clustering (Sharma): one QP per video or image group (per class for the
# co-localization baselines), then per-item evaluation (weakseg.methods.fc).


rule fc_solve:
    input:
        unpack(fc_solve_inputs),
    output:
        f"{RESULTS}/fc/{{dataset}}/{{variant}}/{{unit}}.npz",
    params:
        variant=lambda wc: config["fc"]["variants"][wc.variant],
        params=config["fc"]["params"],
    log:
        f"{RESULTS}/logs/fc/{{dataset}}/{{variant}}/{{unit}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/fc/{{dataset}}/{{variant}}/{{unit}}.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        "../envs/fc.yaml"
    script:
        "../scripts/fc_solve.py"


rule fc_evaluate:
    input:
        unpack(fc_eval_inputs),
    output:
        f"{RESULTS}/eval/fc/{{dataset}}/{{variant}}.parquet",
    params:
        source=lambda wc: config["fc"]["variants"][wc.variant].get("source"),
    log:
        f"{RESULTS}/logs/eval/fc/{{dataset}}/{{variant}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/eval/fc/{{dataset}}/{{variant}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    conda:
        "../envs/fc.yaml"
    script:
        "../scripts/fc_evaluate.py"
