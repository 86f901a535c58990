"""Read the headers of every object of a day's manifest: segments, gaps, problems."""

import json

from seismake.archive import Archive, ArchiveSpec, read_manifest, scan_day
from seismake.fileio import atomic_output
from seismake.logs import log_to_file

log_to_file(snakemake.log[0])
manifest = read_manifest(snakemake.input.manifest)
segments, problems = scan_day(Archive(ArchiveSpec(**manifest.archive)), manifest)
with atomic_output(snakemake.output.segments) as tmp:
    segments.to_csv(tmp, index=False)
with atomic_output(snakemake.output.problems) as tmp:
    tmp.write_text(json.dumps({"day": manifest.day, "problems": problems}, indent=1))
