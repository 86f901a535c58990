"""Stack one chunk of station pairs over all days: HDF5 plus SAC files with the noisi headers."""

from seismake.logs import log_to_file
from seismake.noise.export import window_counts, write_sac_directory
from seismake.noise.params import StackParams
from seismake.noise.stack import list_pairs, pairs_in_chunk, stack_day_files
from seismake.noise.stackstore import write_stacks

log_to_file(snakemake.log[0])
days = list(snakemake.input.days)
chunk = int(snakemake.wildcards.chunk)
pairs = pairs_in_chunk(list_pairs(days), chunk, snakemake.params.n_chunks)
stacks = stack_day_files(days, StackParams.from_dict(snakemake.params.stack), pairs)
write_stacks(snakemake.output.stacks, stacks)
write_sac_directory(snakemake.output.sac, stacks, window_counts(days, stacks))
