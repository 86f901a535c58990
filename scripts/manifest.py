"""List one day of the archive into its manifest; rewrite the file only if it changed."""

from obspy import UTCDateTime

from seismake.archive import Archive, ArchiveSpec, Selection, build_manifest, write_if_changed
from seismake.logs import log_to_file

log_to_file(snakemake.log[0])
archive = Archive(ArchiveSpec.from_config(snakemake.params.archive))
selection = Selection.from_config(snakemake.params.selection)
manifest = build_manifest(archive, UTCDateTime(snakemake.wildcards.day), selection)
write_if_changed(manifest, snakemake.output[0])
