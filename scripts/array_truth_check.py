"""Detections against the demo truth: each plane wave paired with a detection, errors."""

from pathlib import Path

from seismake.array.evaluate import compare_with_truth, processed_spans, read_plane_waves
from seismake.array.io import read_detections_csv, read_fk_hdf5
from seismake.fileio import atomic_output
from seismake.logs import log_to_file

log_to_file(snakemake.log[0])
days = [read_fk_hdf5(path) for path in snakemake.input.fk]
table = compare_with_truth(
    read_detections_csv(snakemake.input.detections),
    read_plane_waves(Path(snakemake.input.archive[0]) / "truth" / "plane_waves.csv"),
    processed_spans(days),
    time_tol_s=float(days[0].f_bands["win"].max()),
    **snakemake.params.tolerances,
)
with atomic_output(snakemake.output[0]) as tmp:
    table.to_csv(tmp, index=False, float_format="%.6g")
