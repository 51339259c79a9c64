# Qualitative figures (#10), one per paper as in its paper: images with the ground truth and the predictions of
# its main variants on its main benchmark (weakseg.methods.<paper>.figures picks the items, in index order, and
# runs the method's prediction code; weakseg.tables.qualitative draws). Inputs are models and predictions the
# tables already need.


rule qualitative_figure:
    input:
        unpack(qualitative_inputs),
    output:
        report(f"{RESULTS}/tables/{{paper}}/qualitative.png", caption="report/qualitative.rst", category="{paper}",
               labels={"table": "qualitative", "file": "figure"}),
    wildcard_constraints:
        paper="|".join(PAPERS),
    params:
        cfg=lambda wc: qualitative_params(wc.paper),
    log:
        f"{RESULTS}/logs/tables/{{paper}}/qualitative.log",
    benchmark:
        f"{RESULTS}/benchmarks/tables/{{paper}}/qualitative.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=10,
        gpu=lambda wc: 0 if wc.paper == "fc" else gpu_units(config[wc.paper]["device"]),
    conda:
        "../envs/torch.yaml"
    script:
        "../scripts/qualitative_figure.py"
