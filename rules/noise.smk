# Noise branch: one correlation job per day, one stack job per chunk of station pairs,
# record sections per component, optional upload of the stacks to S3.


include: "noise_common.smk"


rule cross_correlate:
    input:
        manifest=manifest_path,
    output:
        "results/noise/ccf/{day}.h5",
    log:
        "logs/noise/cross_correlate/{day}.log",
    benchmark:
        "logs/benchmarks/noise/cross_correlate/{day}.tsv"
    conda:
        "../envs/noise.yaml"
    threads: config["noise"]["threads"]
    resources:
        mem_mb=4000,
        s3_connections=1,
    params:
        manifest_version=manifest_version,
        correlation=noise_params(CorrelationParams),
        stations=config["noise"]["stations"],
    script:
        "../scripts/noise_cross_correlate.py"


rule stack:
    input:
        days=expand("results/noise/ccf/{day}.h5", day=DAYS),
        manifests=all_manifests(),
    output:
        stacks="results/noise/stack/{chunk}.h5",
        sac=directory("results/noise/sac/{chunk}"),
    log:
        "logs/noise/stack/{chunk}.log",
    benchmark:
        "logs/benchmarks/noise/stack/{chunk}.tsv"
    conda:
        "../envs/noise.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        stack=noise_params(StackParams),
        n_chunks=config["noise"]["n_chunks"],
    script:
        "../scripts/noise_stack.py"


rule moveout:
    input:
        stacks=noise_stack_files(),
        manifests=all_manifests(),
    output:
        figure=report(
            "results/noise/moveout_{component}.png",
            caption="../report/noise_moveout.rst",
            category="Noise",
        ),
        picks="results/noise/moveout_{component}.csv",
    log:
        "logs/noise/moveout/{component}.log",
    benchmark:
        "logs/benchmarks/noise/moveout/{component}.tsv"
    conda:
        "../envs/noise.yaml"
    threads: 1
    params:
        method=config["noise"]["moveout"]["method"],
        freqmin=config["noise"]["moveout"]["freqmin"],
        freqmax=config["noise"]["moveout"]["freqmax"],
        reference_velocity_km_s=config["noise"]["moveout"]["reference_velocity_km_s"],
    script:
        "../scripts/noise_moveout.py"


rule upload:
    input:
        stacks=noise_stack_files(),
        sac=noise_sac_directories(),
        manifests=all_manifests(),
    output:
        "results/noise/upload.json",
    log:
        "logs/noise/upload.log",
    benchmark:
        "logs/benchmarks/noise/upload.tsv"
    conda:
        "../envs/noise.yaml"
    threads: 1
    resources:
        s3_connections=1,
    params:
        url=config["noise"]["upload"]["url"],
        endpoint_url=config["noise"]["upload"]["endpoint_url"],
    script:
        "../scripts/noise_upload.py"
