"""Summary of the inversion (misfit reduction under the last stage's measurement, model
updates, correlation with the target) and the misfit history figure."""

import json

from seismake.fileio import atomic_output
from seismake.logs import log_to_file
from seismake.noisi.greens import read_wavefield
from seismake.noisi.iteration import (
    Stage,
    load_problem,
    measurement_config,
    read_misfit_record,
    read_status,
)
from seismake.noisi.observed import read_correlation_directory
from seismake.noisi.report import misfit_figure, misfit_history, summarize
from seismake.noisi.sources import read_source_model
from seismake.noisi.stations import read_receivers

log_to_file(snakemake.log[0])
inp, params = snakemake.input, snakemake.params
statuses = [read_status(p) for p in inp.statuses]
records = {r.iteration: r for r in map(read_misfit_record, inp.misfits)}
problem = None  # no observations: nothing was inverted
if inp.greens:
    problem = load_problem(
        [read_wavefield(p) for p in inp.greens],
        read_receivers(inp.stations),
        read_correlation_directory(inp.observed),
        **params.problem,
    )
summary = summarize(
    statuses,
    records,
    problem,
    read_source_model(inp.start),
    read_source_model(inp.final),
    measurement_config(params.measurement, Stage.from_dict(params.stage)),
    read_source_model(inp.target) if "target" in inp.keys() else None,
)
with atomic_output(snakemake.output.summary) as tmp:
    tmp.write_text(json.dumps(summary, indent=1) + "\n")
with atomic_output(snakemake.output.misfit) as tmp:
    misfit_figure(misfit_history(statuses, records)).savefig(tmp, dpi=120)
