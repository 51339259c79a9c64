# Last stage: tables (weakseg.tables). One target per table (e.g. `snakemake fc_table1`
# or its CSV path), the dataset summary, and the index of everything built.


rule tables:
    input:
        f"{RESULTS}/tables/index.md",
        f"{RESULTS}/tables/index.html",
        method_figures(),
    default_target: True


rule table:
    input:
        unpack(table_inputs),
    output:
        csv=report(f"{RESULTS}/tables/{{paper}}/{{table}}.csv", caption="report/table.rst", category="{paper}",
                   labels={"table": "{table}", "file": "CSV"}),
        md=f"{RESULTS}/tables/{{paper}}/{{table}}.md",
        png=report(f"{RESULTS}/tables/{{paper}}/{{table}}.png", caption="report/table.rst", category="{paper}",
                   labels={"table": "{table}", "file": "figure"}),
        provenance=f"{RESULTS}/tables/{{paper}}/{{table}}.provenance.json",
    wildcard_constraints:
        paper="|".join(PAPERS),
        table="|".join(sorted({t for p in PAPERS for t in load_paper(p).tables})),
    params:
        evals=table_evaluations,
        profile=PROFILE,
        notes=lambda wc: table_notes(wc.paper, config),
        unavailable=lambda wc: unavailable_variants(wc.paper, config),
        config=config,
        datasets={b: dataset_dir(d) for b, d in BENCH_TO_DATASET.items()},
    log:
        f"{RESULTS}/logs/tables/{{paper}}/{{table}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/tables/{{paper}}/{{table}}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/tables.yaml"
    script:
        "../scripts/build_table.py"


rule data_summary:
    input:
        [f"{dataset_dir(d)}/index.parquet" for d in profile_datasets()],
    output:
        csv=f"{RESULTS}/tables/data/summary.csv",
        md=f"{RESULTS}/tables/data/summary.md",
        png=report(f"{RESULTS}/tables/data/summary.png", caption="report/data_summary.rst", category="datasets",
                   labels={"dataset": "summary"}),
    params:
        profile=PROFILE,
        profile_map=BENCH_TO_DATASET,
        datasets={d: dataset_dir(d) for d in profile_datasets()},
    log:
        f"{RESULTS}/logs/tables/data_summary.log",
    benchmark:
        f"{RESULTS}/benchmarks/tables/data_summary.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/tables.yaml"
    script:
        "../scripts/data_summary.py"


rule tables_index:
    input:
        f"{RESULTS}/tables/data/summary.md",
        [f"{RESULTS}/tables/data/previews/{d}.png" for d in profile_datasets()],
        [table_files(p, t) for p, t in enabled_tables()],
        method_figures(),
    output:
        md=f"{RESULTS}/tables/index.md",
        html=f"{RESULTS}/tables/index.html",
    params:
        profile=PROFILE,
        enabled=list(ENABLED),
        previews=profile_datasets(),
        figures=[
            (p, f"Figure 2 ({x}): {caption}", f"colocam/figure2_{x}.png")
            for p in ENABLED
            if p == "colocam"
            for x, caption in FIGURE2_CAPTIONS.items()
        ]
        + [(p, "Qualitative figure (green: ground truth, red: prediction)", f"{p}/qualitative.png")
           for p in ENABLED if f"{RESULTS}/tables/{p}/qualitative.png" in qualitative_figures()],
    log:
        f"{RESULTS}/logs/tables/index.log",
    benchmark:
        f"{RESULTS}/benchmarks/tables/index.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../envs/tables.yaml"
    script:
        "../scripts/tables_index.py"


# One named target per table of the five papers: `snakemake fc_table1` builds that table
# and only what it needs; for a method not implemented yet it stops with the issue number.
for _paper in PAPERS:
    for _table in load_paper(_paper).tables.values():

        rule:
            name:
                _table.name
            input:
                table_files(_paper, _table.id),
            localrule: True
