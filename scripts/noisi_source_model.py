"""Starting source model (Appendix D starting_model.h5): superposed distributions with one
Gaussian spectrum, on the Green's functions' frequency axis."""

from seismake.logs import log_to_file
from seismake.noisi.greens import frequency_axis
from seismake.noisi.grid import read_grid
from seismake.noisi.sources import distributions_from_config, make_source_model, write_source_model

log_to_file(snakemake.log[0])
params = snakemake.params
distributions = distributions_from_config(
    params.distributions, params.spectrum["mean_hz"], params.spectrum["std_hz"]
)
freqs = frequency_axis(params.sampling["nt"], params.sampling["fs_hz"])
model = make_source_model(read_grid(snakemake.input.grid), freqs, distributions)
write_source_model(snakemake.output[0], model)
