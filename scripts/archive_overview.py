"""Station map, availability chart and per channel-day summary of the whole run."""

from seismake.archive.overview import summarize
from seismake.fileio import atomic_output
from seismake.logs import log_to_file
from seismake.plot.overview import plot_availability, plot_station_map

log_to_file(snakemake.log[0])
channels, segments, summary = summarize(
    snakemake.input.manifests, snakemake.input.segments, snakemake.input.problems
)
with atomic_output(snakemake.output.station_map) as tmp:
    plot_station_map(channels, tmp)
with atomic_output(snakemake.output.availability) as tmp:
    plot_availability(segments, sorted(set(summary.seed_id)), snakemake.params.days, tmp)
with atomic_output(snakemake.output.summary) as tmp:
    summary.to_csv(tmp, index=False)
