"""Correlate one day: read the archive through the day's manifest, write every pair to one HDF5.

The correlations go into the file a block of pairs at a time, so a day is never held
in memory whole.

The job's threads go to the library's thread pools (channels, FFT blocks); BLAS runs
single-threaded: multithreaded OpenBLAS made the small batched cross-spectral products
several times slower on shared 2-core machines (README, "Noise branch"). Snakemake sets
OPENBLAS_NUM_THREADS etc. to the job's threads, so they are reset here, before numpy loads.
"""

import os

os.environ.update(
    dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"), "1")
)

from seismake.archive import Archive, ArchiveSpec, read_manifest
from seismake.logs import log_to_file
from seismake.noise.archiveday import correlate_archive_day
from seismake.noise.ccfstore import write_correlated_day
from seismake.noise.params import CorrelationParams

log_to_file(snakemake.log[0])
manifest = read_manifest(snakemake.input.manifest)
archive = Archive(ArchiveSpec(**manifest.archive))
params = CorrelationParams.from_dict(snakemake.params.correlation)
write_correlated_day(
    snakemake.output[0],
    lambda allocate: correlate_archive_day(
        archive, manifest, params, snakemake.params.stations, snakemake.threads, allocate
    ),
)
