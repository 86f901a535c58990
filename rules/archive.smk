# Archive: demo synthesis, per-day manifests (checkpoint), availability, overview.


rule demo_archive:
    output:
        directory(config["archive"]["url"]),
    log:
        "logs/demo_archive.log",
    benchmark:
        "logs/benchmarks/demo_archive.tsv"
    conda:
        "../envs/archive.yaml"
    threads: 1
    resources:
        mem_mb=4000,
    params:
        demo=config["demo"],
        start=config["start_date"],
        n_days=len(DAYS),
    script:
        "../scripts/demo_archive.py"


checkpoint manifest:
    input:
        demo_archive_output(),
    output:
        update("results/manifest/{day}.json"),
    log:
        "logs/manifest/{day}.log",
    benchmark:
        "logs/benchmarks/manifest/{day}.tsv"
    conda:
        "../envs/archive.yaml"
    threads: 1
    resources:
        s3_connections=1,
    params:
        archive=config["archive"],
        selection=selection(),
    script:
        "../scripts/manifest.py"


rule availability:
    input:
        manifest=manifest_path,
    output:
        segments="results/archive/availability/{day}.csv",
        problems="results/archive/availability/{day}.problems.json",
    log:
        "logs/availability/{day}.log",
    benchmark:
        "logs/benchmarks/availability/{day}.tsv"
    conda:
        "../envs/archive.yaml"
    threads: 1
    resources:
        s3_connections=1,
    params:
        manifest_version=manifest_version,
    script:
        "../scripts/availability.py"


rule archive_overview:
    input:
        manifests=all_manifests(),
        segments=expand("results/archive/availability/{day}.csv", day=DAYS),
        problems=expand("results/archive/availability/{day}.problems.json", day=DAYS),
    output:
        station_map=report(
            "results/archive/station_map.png",
            caption="../report/station_map.rst",
            category="Archive",
        ),
        availability=report(
            "results/archive/availability.png",
            caption="../report/availability.rst",
            category="Archive",
        ),
        summary="results/archive/summary.csv",
    log:
        "logs/archive_overview.log",
    benchmark:
        "logs/benchmarks/archive_overview.tsv"
    conda:
        "../envs/archive.yaml"
    threads: 1
    params:
        days=DAYS,
    script:
        "../scripts/archive_overview.py"
