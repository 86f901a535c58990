"""Modelled correlations of all station pairs for an iteration's model: one HDF5 and one
SAC file per pair (Appendix A headers)."""

from seismake.fileio import atomic_directory
from seismake.logs import log_to_file
from seismake.noisi.forward import correlate, stack_greens, station_pairs, write_correlations_h5
from seismake.noisi.greens import read_wavefield
from seismake.noisi.observed import correlation_set_traces, write_correlation_directory
from seismake.noisi.sources import read_source_model
from seismake.noisi.stations import read_receivers

log_to_file(snakemake.log[0])
inp, problem = snakemake.input, snakemake.params.problem
greens = stack_greens([read_wavefield(p) for p in inp.greens])
pairs = station_pairs(len(greens.station_ids), problem["autocorrelations"])
correlations = correlate(greens, read_source_model(inp.model), pairs, problem["max_lag_s"])
write_correlations_h5(snakemake.output.h5, correlations)
with atomic_directory(snakemake.output.sac) as tmp:
    write_correlation_directory(
        tmp, correlation_set_traces(correlations, read_receivers(inp.stations))
    )
