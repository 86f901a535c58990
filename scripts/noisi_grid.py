"""Source grid: points of approximately equal area on WGS84 over the configured bounds."""

from seismake.logs import log_to_file
from seismake.noisi.grid import make_grid, write_grid

log_to_file(snakemake.log[0])
write_grid(snakemake.output[0], make_grid(**snakemake.params.grid))
