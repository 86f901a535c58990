"""Analytic surface-wave Green's functions from every grid point to one receiver channel
(Appendix C file NET.STA.LOC.CHA.h5)."""

from seismake.logs import log_to_file
from seismake.noisi.greens import analytic_wavefield, write_wavefield
from seismake.noisi.grid import read_grid

log_to_file(snakemake.log[0])
receiver, greens = snakemake.params.receiver, snakemake.params.greens
wavefield = analytic_wavefield(
    read_grid(snakemake.input.grid),
    receiver["latitude"],
    receiver["longitude"],
    receiver["seed_id"],
    greens["fs_hz"],
    greens["nt"],
    greens["velocity_mps"],
    greens["q"],
    greens["density_kgm3"],
    data_quantity=greens["data_quantity"],
    fdomain=greens["fdomain"],
    band_hz=greens["band_hz"],
)
write_wavefield(snakemake.output[0], wavefield)
