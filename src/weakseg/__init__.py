"""weakseg: five papers on weakly supervised segmentation and localization, reproduced end to end.

All logic lives in this package; the Snakemake rules only wire files to its functions.
"""

__version__ = "0.1.0"
