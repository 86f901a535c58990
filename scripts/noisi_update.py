"""Model and status of iteration i: the starting model (i = 0), or the update after
iteration i - 1: quadratic fit of the trial misfits along the projected L-BFGS direction,
a copy when the stage has stopped, a restart when no step decreased the misfit."""

from seismake.logs import log_to_file
from seismake.noisi.greens import read_wavefield
from seismake.noisi.iteration import (
    Stage,
    first_status,
    load_problem,
    measurement_config,
    read_misfit_record,
    read_status,
    read_trials,
    update_iteration,
    write_status,
)
from seismake.noisi.observed import read_correlation_directory
from seismake.noisi.optimize import read_state
from seismake.noisi.sources import read_source_model, write_source_model
from seismake.noisi.stations import read_receivers

log_to_file(snakemake.log[0])
inp, params = snakemake.input, snakemake.params
if "start" in inp.keys():
    model, status = read_source_model(inp.start), first_status(len(read_receivers(inp.stations)))
else:
    search = {}
    if "lbfgs" in inp.keys():
        search = {
            "state": read_state(inp.lbfgs),
            "trials": read_trials(inp.trials),
            "problem": load_problem(
                [read_wavefield(p) for p in inp.greens],
                read_receivers(inp.stations),
                read_correlation_directory(inp.observed),
                **params.problem,
            ),
            "config": measurement_config(params.measurement, Stage.from_dict(params.stage)),
        }
    record = read_misfit_record(inp.misfit) if "misfit" in inp.keys() else None
    model, status = update_iteration(
        read_status(inp.status),
        read_source_model(inp.model),
        params.next_stage,
        params.max_shrink,
        record,
        **search,
    )
write_source_model(snakemake.output.model, model)
write_status(snakemake.output.status, status)
