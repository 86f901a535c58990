"""Record section of one component of the stacks by distance, with envelope picks."""

from seismake.fileio import atomic_output
from seismake.logs import log_to_file
from seismake.noise.moveout import envelope_picks, record_section
from seismake.noise.stackstore import read_stacks
from seismake.plot.noise import plot_moveout

log_to_file(snakemake.log[0])
p = snakemake.params
section = record_section(
    [read_stacks(path) for path in snakemake.input.stacks], snakemake.wildcards.component, p.method
)
with atomic_output(snakemake.output.figure) as tmp:
    plot_moveout(section, p.freqmin, p.freqmax, tmp, p.reference_velocity_km_s)
with atomic_output(snakemake.output.picks) as tmp:
    envelope_picks(section, p.freqmin, p.freqmax).to_csv(tmp, index=False)
