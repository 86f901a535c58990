"""Misfit and adjoint sources of an iteration against the observations, with the stage's
filters; the relative improvement over the previous iteration decides convergence."""

from seismake.logs import log_to_file
from seismake.noisi.forward import read_correlations_h5
from seismake.noisi.iteration import (
    Stage,
    measure_iteration,
    measurement_config,
    read_misfit_record,
    read_status,
    write_misfit_record,
)
from seismake.noisi.measure import write_measurement
from seismake.noisi.observed import read_correlation_directory
from seismake.noisi.stations import read_receivers

log_to_file(snakemake.log[0])
inp, params = snakemake.input, snakemake.params
previous = read_misfit_record(inp.previous) if "previous" in inp.keys() else None
measurement, record = measure_iteration(
    read_correlations_h5(inp.correlations),
    read_correlation_directory(inp.observed),
    read_receivers(inp.stations),
    measurement_config(params.measurement, Stage.from_dict(params.stage)),
    read_status(inp.status),
    previous,
    params.min_improvement,
)
write_measurement(snakemake.output.measurement, measurement)
write_misfit_record(snakemake.output.misfit, record)
