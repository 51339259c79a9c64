# weakseg: five papers on weakly supervised segmentation and localization, end to end.
# Default target: `tables` (every table of the methods enabled in config.yaml, the
# dataset summary and the index). See README.md.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


include: "rules/common.smk"


rule tables:
    input:
        f"{RESULTS}/tables/index.md",
        f"{RESULTS}/tables/index.html",
    default_target: True


include: "rules/data.smk"
include: "rules/tables.smk"
