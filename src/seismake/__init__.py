"""seismake: a Snakemake workflow for seismology.

The library under ``seismake`` holds the science; the Snakemake rules in
``rules/`` and the scripts in ``scripts/`` are thin glue around it.
"""

__version__ = "0.1.0"
