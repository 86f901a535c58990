"""Detections of all days: consistent time-frequency pixels grouped, midnight crossings merged."""

from seismake.array.aggregate import aggregate_days
from seismake.array.io import read_fk_hdf5, write_detections_csv
from seismake.logs import log_to_file

log_to_file(snakemake.log[0])
days = [read_fk_hdf5(path) for path in snakemake.input.fk]
write_detections_csv(aggregate_days(days, **snakemake.params.grouping), snakemake.output[0])
