"""Figures of the inversion: source maps (target, start, recovered), kernels of chosen
pairs (first iteration) and waveform fits."""

import json
from pathlib import Path

from seismake.fileio import atomic_output
from seismake.logs import log_to_file
from seismake.noisi.greens import read_wavefield
from seismake.noisi.iteration import Stage, load_problem, measurement_config
from seismake.noisi.kernels import read_kernels
from seismake.noisi.observed import read_correlation_directory
from seismake.noisi.report import inversion_figures
from seismake.noisi.sources import read_source_model
from seismake.noisi.stations import read_receivers

log_to_file(snakemake.log[0])
inp, params = snakemake.input, snakemake.params
receivers = read_receivers(inp.stations)
problem, kernels, kernel_pairs = None, None, []  # no observations: nothing was inverted
if "kernels" in inp.keys():
    problem = load_problem(
        [read_wavefield(p) for p in inp.greens],
        receivers,
        read_correlation_directory(inp.observed),
        **params.problem,
    )
    kernels, kernel_pairs = read_kernels(inp.kernels)
figures = inversion_figures(
    problem,
    receivers,
    read_source_model(inp.start),
    read_source_model(inp.final),
    kernels,
    kernel_pairs,
    params.n_pairs,
    target=read_source_model(inp.target[0]) if inp.target else None,
    markers=json.loads(Path(inp.markers[0]).read_text())["markers_lon_lat"] if inp.markers else (),
    synthetic=params.synthetic,
    config=measurement_config(params.measurement, Stage.from_dict(params.stage)),
)
for name, figure in figures.items():
    with atomic_output(snakemake.output[name]) as tmp:
        figure.savefig(tmp, dpi=120)
