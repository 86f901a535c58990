"""Multi-band sliding-window FK of one day of the array elements listed in the manifest."""

import pandas as pd

from seismake.archive import Archive, ArchiveSpec, read_manifest
from seismake.array.day import array_day_fk, read_array_day
from seismake.array.io import write_fk_hdf5
from seismake.logs import log_to_file

log_to_file(snakemake.log[0])
manifest = read_manifest(snakemake.input.manifest)
archive = Archive(ArchiveSpec(**manifest.archive))
st, _ = read_array_day(archive, manifest, **snakemake.params.elements)
f_bands = pd.read_csv(snakemake.input.fbands)
result = array_day_fk(st, manifest.day, f_bands, n_workers=snakemake.threads, **snakemake.params.fk)
write_fk_hdf5(result, snakemake.output[0])
