"""Gradient of an iteration (kernels summed over pairs and filters, times the cell areas,
Gaussian smoothing) and the projected L-BFGS search direction."""

import math

from seismake.logs import log_to_file
from seismake.noisi.iteration import Stage, read_misfit_record, read_status, search_direction
from seismake.noisi.kernels import read_kernels
from seismake.noisi.optimize import read_state, write_gradient, write_state
from seismake.noisi.sources import read_source_model

log_to_file(snakemake.log[0])
inp, lbfgs = snakemake.input, snakemake.params.lbfgs
smoothed, raw, state = search_direction(
    read_kernels(inp.kernels)[0],
    read_source_model(inp.model),
    read_misfit_record(inp.misfit),
    read_status(inp.status),
    read_state(inp.previous) if "previous" in inp.keys() else None,
    Stage.from_dict(snakemake.params.stage).smoothing_m,
    memory=lbfgs["memory"],
    upper=math.inf if lbfgs["upper_bound"] is None else lbfgs["upper_bound"],
    initial_step=lbfgs["initial_step"],
)
write_gradient(snakemake.output.gradient, smoothed, raw)
write_state(snakemake.output.lbfgs, state)
