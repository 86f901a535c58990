"""Synthesize the embedded demo archive (SCEDC layout, StationXML, truth) into the output."""

from seismake.fileio import atomic_directory
from seismake.logs import log_to_file
from seismake.synth import DemoSpec, write_demo_archive

log_to_file(snakemake.log[0])
demo = snakemake.params.demo
spec = DemoSpec(
    seed=demo["seed"],
    start=snakemake.params.start,
    n_days=snakemake.params.n_days,
    day_length_s=demo["day_length_s"],
)
with atomic_directory(snakemake.output[0]) as tmp:
    write_demo_archive(tmp, spec)
