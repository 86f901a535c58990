"""Receivers of the inversion: the configured stations (synthetic data) or the channels
of the observed correlation stacks of one component."""

from pathlib import Path

from seismake.logs import log_to_file
from seismake.noisi.observed import (
    read_stack_directories,
    receivers_from_traces,
    select_component,
)
from seismake.noisi.stations import receivers_from_config, write_receivers

log_to_file(snakemake.log[0])
params = snakemake.params
if params.mode == "synthetic":
    receivers = receivers_from_config(params.synthetic["stations"], params.synthetic["channel"])
else:
    traces = read_stack_directories([Path(d, params.subdirectory) for d in snakemake.input.stacks])
    kept = select_component(traces, params.component, params.autocorrelations)
    receivers = receivers_from_traces(kept)
write_receivers(snakemake.output[0], receivers)
