# weakseg: five papers on weakly supervised segmentation and localization, end to end.
# Default target: `tables` (every table of the methods enabled in config.yaml, the
# dataset summary and the index). See README.md.

import os

from snakemake.utils import min_version

min_version("9.0")


# The repository's config.yaml, wherever the working directory is; --configfile and
# --config override it key by key.
configfile: os.path.join(workflow.basedir, "config.yaml")


# `snakemake --report report.html`: every table and figure, with its caption (rules/report/).
report: "rules/report/workflow.rst"


include: "rules/common.smk"


include: "rules/data.smk"
include: "rules/preprocess.smk"
include: "rules/fc.smk"
include: "rules/mcnn.smk"
include: "rules/ssnm.smk"
include: "rules/mil.smk"
include: "rules/colocam.smk"
include: "rules/tables.smk"
include: "rules/figures.smk"
