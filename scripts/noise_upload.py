"""Upload the stacks (HDF5 and SAC) to an S3 prefix; credentials come from the environment.

Object keys are the paths below the common directory of the inputs (results/noise/).
"""

import json
import os

from seismake.fileio import atomic_output
from seismake.logs import log_to_file
from seismake.noise.export import files_under, upload_files

log_to_file(snakemake.log[0])
paths = [*snakemake.input.stacks, *snakemake.input.sac]
files = files_under(paths, os.path.commonpath(paths))
records = upload_files(files, snakemake.params.url, snakemake.params.endpoint_url)
with atomic_output(snakemake.output[0]) as tmp:
    tmp.write_text(json.dumps({"url": snakemake.params.url, "objects": records}, indent=1))
