"""The model to recover: the synthetic target (config) or the demo archive's true noise
sources interpolated to the grid; with the points to mark on the maps."""

import json

from seismake.fileio import atomic_output
from seismake.logs import log_to_file
from seismake.noisi.greens import frequency_axis
from seismake.noisi.grid import read_grid
from seismake.noisi.report import truth_model
from seismake.noisi.sources import distributions_from_config, make_source_model, write_source_model

log_to_file(snakemake.log[0])
params = snakemake.params
grid = read_grid(snakemake.input.grid)
freqs = frequency_axis(params.sampling["nt"], params.sampling["fs_hz"])
mean, std = params.spectrum["mean_hz"], params.spectrum["std_hz"]
if params.mode == "synthetic":
    model = make_source_model(
        grid, freqs, distributions_from_config(params.distributions, mean, std)
    )
    markers = [
        (d["center_lon"], d["center_lat"]) for d in params.distributions if "center_lon" in d
    ]
else:
    model, markers = truth_model(grid, freqs, **params.truth, mean_hz=mean, std_hz=std)
write_source_model(snakemake.output.model, model)
with atomic_output(snakemake.output.markers) as tmp:
    tmp.write_text(json.dumps({"markers_lon_lat": markers}, indent=1) + "\n")
