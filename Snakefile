# seismake: raw continuous waveforms (S3 or local) -> manifests -> branches.
# Run with `snakemake --cores N`; the configuration is validated before any rule runs.

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "config/config.schema.yaml")


include: "rules/common.smk"
include: "rules/archive.smk"
include: "rules/noise.smk"
include: "rules/noisi.smk"
include: "rules/array.smk"


# The targets are ancient here: jobs that depend on a manifest checkpoint are re-evaluated
# after it, which would otherwise schedule this aggregate rule on every run.
rule all:
    default_target: True
    input:
        [ancient(target) for target in all_targets()],
