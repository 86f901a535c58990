"""Observed correlations as SAC (Appendix A), one per pair: the target's correlations plus
seeded Gaussian noise, or the stacks of one component on the model's lag axis."""

from pathlib import Path

from seismake.fileio import atomic_directory
from seismake.logs import log_to_file
from seismake.noisi.forward import stack_greens, station_pairs
from seismake.noisi.greens import read_wavefield
from seismake.noisi.observed import (
    correlation_set_traces,
    read_stack_directories,
    resample_traces,
    select_component,
    synthetic_observations,
    write_correlation_directory,
)
from seismake.noisi.sources import read_source_model
from seismake.noisi.stations import read_receivers

log_to_file(snakemake.log[0])
params, inp = snakemake.params, snakemake.input
problem = params.problem
if params.mode == "synthetic":
    greens = stack_greens([read_wavefield(p) for p in inp.greens])
    pairs = station_pairs(len(greens.station_ids), problem["autocorrelations"])
    _, noisy = synthetic_observations(
        greens,
        read_source_model(inp.target),
        pairs,
        problem["max_lag_s"],
        params.synthetic["noise_level"],
        params.synthetic["seed"],
    )
    traces = correlation_set_traces(noisy, read_receivers(inp.stations))
else:
    stacks = read_stack_directories([Path(d, params.subdirectory) for d in inp.stacks])
    kept = select_component(stacks, params.component, problem["autocorrelations"])
    traces = resample_traces(kept, params.fs_hz, problem["max_lag_s"])
with atomic_directory(snakemake.output[0]) as tmp:
    write_correlation_directory(tmp, traces)
