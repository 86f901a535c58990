"""The frequency bands of the array branch: PMCC, extended PMCC or custom, as a CSV."""

from seismake.array.fbands import extend_pmcc_fbands, make_custom_fbands, pmcc_fbands
from seismake.fileio import atomic_output
from seismake.logs import log_to_file

log_to_file(snakemake.log[0])
bands = snakemake.params.bands
make = {
    "pmcc": pmcc_fbands,
    "extended_pmcc": lambda: extend_pmcc_fbands(pmcc_fbands(), bands["pmcc_fmax_hz"]),
    "custom": lambda: make_custom_fbands(**bands["custom"]),
}
with atomic_output(snakemake.output[0]) as tmp:
    make[bands["type"]]().to_csv(tmp, index=False, float_format="%.10g")
