"""Slowness-plane power of the window of highest semblance in the run."""

from seismake.archive import read_manifest
from seismake.array.day import best_window_power
from seismake.array.io import read_fk_hdf5
from seismake.fileio import atomic_output
from seismake.logs import log_to_file
from seismake.plot.array import plot_slowness_power

log_to_file(snakemake.log[0])
days = [read_fk_hdf5(path) for path in snakemake.input.fk]
manifests = [read_manifest(path) for path in snakemake.input.manifests]
sx, sy, power, title = best_window_power(days, manifests, **snakemake.params.elements)
with atomic_output(snakemake.output[0]) as tmp:
    plot_slowness_power(sx, sy, power, tmp, show_peak=bool(power.any()), title=title)
