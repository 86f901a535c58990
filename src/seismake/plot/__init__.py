"""Figures for the Snakemake report. Every function writes one PNG (matplotlib, Agg)."""

import matplotlib

matplotlib.use("Agg")
