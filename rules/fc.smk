# Foreground Clustering (Sharma): one job per (dataset, variant) solves its QPs, one per
# video or image group (per class for the co-localization baselines), then per-item
# evaluation (weakseg.methods.fc). One process per variant: the QPs take about a second,
# less than starting a job.


rule fc_solve:
    input:
        unpack(fc_solve_inputs),
    output:
        f"{RESULTS}/fc/{{dataset}}/{{variant}}.npz",
    params:
        variant=lambda wc: config["fc"]["variants"][wc.variant],
        params=config["fc"]["params"],
        groups=lambda wc: fc_groups(wc.dataset, wc.variant),
    log:
        f"{RESULTS}/logs/fc/{{dataset}}/{{variant}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/fc/{{dataset}}/{{variant}}.tsv"
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
