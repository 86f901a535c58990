"""One day's backazimuth, velocity and semblance per band, with the detections outlined."""

from seismake.array.io import read_detections_csv, read_fk_hdf5
from seismake.fileio import atomic_output
from seismake.logs import log_to_file
from seismake.plot.array import plot_sliding_window_multifreq

log_to_file(snakemake.log[0])
fk = read_fk_hdf5(snakemake.input.fk)
detections = read_detections_csv(snakemake.input.detections)
detections = detections[(detections.end >= fk.t_start) & (detections.start <= fk.t_end)]
with atomic_output(snakemake.output[0]) as tmp:
    plot_sliding_window_multifreq(
        fk.times,
        fk.f_bands,
        fk.backazimuth,
        fk.velocity,
        fk.semblance,
        tmp,
        semblance_threshold=snakemake.params.semblance_threshold,
        detections=detections,
        title=f"array {snakemake.wildcards.day}: {len(fk.geometry.ids)} elements, "
        f"{len(detections)} detection(s)",
    )
