# Array: frequency bands -> multi-band sliding-window FK per day -> detections -> figures.


#: final outputs; the truth comparison only for the demo (its archive holds the truth)
BRANCH_TARGETS["array"] = lambda: [
    "results/array/detections.csv",
    "results/array/slowness_best.png",
    *expand("results/array/fk_{day}.png", day=DAYS),
    *(["results/array/truth_comparison.csv"] if config["demo"]["enabled"] else []),
]
#: the array section (defaults filled in by the schema) and the parts each rule uses
ARRAY = config["array"]
ARRAY_ELEMENTS = {k: ARRAY[k] for k in ("stations", "channel")}
ARRAY_FK = {
    k: ARRAY[k]
    for k in ("min_elements", "sll_x", "slm_x", "sll_y", "slm_y", "sl_s", "sl_corr")
}
ARRAY_GROUPING = {
    k: ARRAY[k]
    for k in (
        "semblance_threshold",
        "baz_tol_deg",
        "vel_rel_tol",
        "min_duration_s",
        "min_pixels",
    )
}


rule fbands:
    output:
        "results/array/fbands.csv",
    log:
        "logs/array/fbands.log",
    benchmark:
        "logs/benchmarks/array/fbands.tsv"
    conda:
        "../envs/array.yaml"
    threads: 1
    params:
        bands=ARRAY["bands"],
    script:
        "../scripts/array_fbands.py"


rule fk:
    input:
        manifest=manifest_path,
        fbands="results/array/fbands.csv",
    output:
        "results/array/fk/{day}.h5",
    log:
        "logs/array/fk/{day}.log",
    benchmark:
        "logs/benchmarks/array/fk/{day}.tsv"
    conda:
        "../envs/array.yaml"
    threads: ARRAY["n_workers"]
    resources:
        s3_connections=1,
        mem_mb=1000,
    params:
        manifest_version=manifest_version,
        elements=ARRAY_ELEMENTS,
        fk=ARRAY_FK,
    script:
        "../scripts/array_fk.py"


rule aggregate:
    input:
        fk=expand("results/array/fk/{day}.h5", day=DAYS),
        manifests=all_manifests(),
    output:
        "results/array/detections.csv",
    log:
        "logs/array/aggregate.log",
    benchmark:
        "logs/benchmarks/array/aggregate.tsv"
    conda:
        "../envs/array.yaml"
    threads: 1
    params:
        grouping=ARRAY_GROUPING,
    script:
        "../scripts/array_aggregate.py"


rule fk_figure:
    input:
        manifest=manifest_path,
        fk="results/array/fk/{day}.h5",
        detections="results/array/detections.csv",
    output:
        report(
            "results/array/fk_{day}.png",
            caption="../report/array_fk.rst",
            category="Array",
            labels={"figure": "multi-band FK", "day": "{day}"},
        ),
    log:
        "logs/array/fk_figure/{day}.log",
    benchmark:
        "logs/benchmarks/array/fk_figure/{day}.tsv"
    conda:
        "../envs/array.yaml"
    threads: 1
    params:
        semblance_threshold=ARRAY["semblance_threshold"],
    script:
        "../scripts/array_fk_figure.py"


rule slowness_figure:
    input:
        fk=expand("results/array/fk/{day}.h5", day=DAYS),
        manifests=all_manifests(),
    output:
        report(
            "results/array/slowness_best.png",
            caption="../report/array_slowness.rst",
            category="Array",
            labels={"figure": "slowness plane", "day": "best window"},
        ),
    log:
        "logs/array/slowness_figure.log",
    benchmark:
        "logs/benchmarks/array/slowness_figure.tsv"
    conda:
        "../envs/array.yaml"
    threads: 1
    resources:
        s3_connections=1,
    params:
        elements=ARRAY_ELEMENTS,
    script:
        "../scripts/array_slowness_figure.py"


rule array_truth_check:
    input:
        archive=demo_archive_output(),
        fk=expand("results/array/fk/{day}.h5", day=DAYS),
        manifests=all_manifests(),
        detections="results/array/detections.csv",
    output:
        report(
            "results/array/truth_comparison.csv",
            caption="../report/array_truth.rst",
            category="Array",
            labels={"figure": "detections against the truth", "day": "all"},
        ),
    log:
        "logs/array/truth_check.log",
    benchmark:
        "logs/benchmarks/array/truth_check.tsv"
    conda:
        "../envs/array.yaml"
    threads: 1
    params:
        tolerances=ARRAY["truth_check"],
    script:
        "../scripts/array_truth_check.py"
