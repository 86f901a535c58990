"""Misfit of one trial step along the search direction (weights clipped to the bounds)."""

from seismake.logs import log_to_file
from seismake.noisi.greens import read_wavefield
from seismake.noisi.iteration import (
    Stage,
    load_problem,
    measurement_config,
    trial_misfit,
    write_trial,
)
from seismake.noisi.observed import read_correlation_directory
from seismake.noisi.optimize import read_state, trial_steps
from seismake.noisi.sources import read_source_model
from seismake.noisi.stations import read_receivers

log_to_file(snakemake.log[0])
inp, params, wildcards = snakemake.input, snakemake.params, snakemake.wildcards
problem = load_problem(
    [read_wavefield(p) for p in inp.greens],
    read_receivers(inp.stations),
    read_correlation_directory(inp.observed),
    **params.problem,
)
state = read_state(inp.lbfgs)
alpha = float(trial_steps(state, params.factors)[int(wildcards.trial)])
config = measurement_config(params.measurement, Stage.from_dict(params.stage))
misfit = trial_misfit(problem, read_source_model(inp.model), state, alpha, config)
write_trial(snakemake.output[0], int(wildcards.iteration), int(wildcards.trial), alpha, misfit)
