# noisi: noise-source inversion. Source grid -> receivers (checkpoint) -> Green's functions
# (one job per receiver channel) -> starting model -> observations (synthetic or stacks) ->
# per iteration i: iter/{i}/model.h5 -> correlations -> measure (checkpoint) -> kernels (MPI)
# -> gradient + L-BFGS direction -> trial steps -> update (checkpoint) -> iter/{i+1}/model.h5.
# The update checkpoint and the measure checkpoint decide which inputs the next update needs:
# an iteration of a stopped stage only copies its model (seismake.noisi.iteration).


include: "noisi_common.smk"


rule source_grid:
    output:
        f"{NOISI_DIR}/grid.h5",
    log:
        f"{NOISI_LOGS}/source_grid.log",
    benchmark:
        f"{NOISI_BENCH}/source_grid.tsv"
    conda:
        "../envs/noisi.yaml"
    threads: 1
    params:
        grid=NOISI["grid"],
    script:
        "../scripts/noisi_grid.py"


checkpoint station_list:
    input:
        stacks=noisi_stacks,
    output:
        f"{NOISI_DIR}/stations.csv",
    log:
        f"{NOISI_LOGS}/station_list.log",
    benchmark:
        f"{NOISI_BENCH}/station_list.tsv"
    conda:
        "../envs/noisi.yaml"
    threads: 1
    params:
        mode=NOISI["mode"],
        synthetic={k: NOISI["synthetic"][k] for k in ("stations", "channel")},
        component=NOISI["observed"]["component"],
        subdirectory=noisi_stack_subdirectory(),
        autocorrelations=NOISI["autocorrelations"],
    script:
        "../scripts/noisi_stations.py"


rule greens:
    input:
        grid=f"{NOISI_DIR}/grid.h5",
        stations=ancient(f"{NOISI_DIR}/stations.csv"),
    output:
        f"{NOISI_DIR}/greens/{{receiver}}.h5",
    log:
        f"{NOISI_LOGS}/greens/{{receiver}}.log",
    benchmark:
        f"{NOISI_BENCH}/greens/{{receiver}}.tsv"
    conda:
        "../envs/noisi.yaml"
    threads: 1
    params:
        receiver=noisi_receiver,
        greens=NOISI_GREENS,
    script:
        "../scripts/noisi_greens.py"


rule source_model:
    input:
        grid=f"{NOISI_DIR}/grid.h5",
    output:
        f"{NOISI_DIR}/starting_model.h5",
    log:
        f"{NOISI_LOGS}/source_model.log",
    benchmark:
        f"{NOISI_BENCH}/source_model.tsv"
    conda:
        "../envs/noisi.yaml"
    threads: 1
    params:
        distributions=NOISI["start"],
        spectrum=NOISI["spectrum"],
        sampling=NOISI_SAMPLING,
    script:
        "../scripts/noisi_source_model.py"


rule target_model:
    input:
        grid=f"{NOISI_DIR}/grid.h5",
        archive=demo_archive_output() if NOISI["mode"] == "observed" else [],
    output:
        model=f"{NOISI_DIR}/target_model.h5",
        markers=f"{NOISI_DIR}/target_markers.json",
    log:
        f"{NOISI_LOGS}/target_model.log",
    benchmark:
        f"{NOISI_BENCH}/target_model.tsv"
    conda:
        "../envs/noisi.yaml"
    threads: 1
    params:
        mode=NOISI["mode"],
        distributions=(
            NOISI["synthetic"]["target"] if NOISI["mode"] == "synthetic" else []
        ),
        truth=NOISI_TRUTH if NOISI["mode"] == "observed" else {},
        spectrum=NOISI["spectrum"],
        sampling=NOISI_SAMPLING,
    script:
        "../scripts/noisi_target_model.py"


rule observed_data:
    input:
        unpack(
            lambda wildcards: (
                {
                    "greens": noisi_greens(),
                    "stations": f"{NOISI_DIR}/stations.csv",
                    "target": f"{NOISI_DIR}/target_model.h5",
                }
                if NOISI["mode"] == "synthetic"
                else {"stacks": noisi_stacks()}
            )
        ),
    output:
        directory(f"{NOISI_DIR}/observed"),
    log:
        f"{NOISI_LOGS}/observed_data.log",
    benchmark:
        f"{NOISI_BENCH}/observed_data.tsv"
    conda:
        "../envs/noisi.yaml"
    threads: 1
    params:
        mode=NOISI["mode"],
        synthetic={k: NOISI["synthetic"][k] for k in ("noise_level", "seed")},
        component=NOISI["observed"]["component"],
        subdirectory=noisi_stack_subdirectory(),
        problem=NOISI_PROBLEM,
        fs_hz=NOISI["greens"]["fs_hz"],
    script:
        "../scripts/noisi_observed.py"


checkpoint update:
    input:
        unpack(noisi_update_input),
    output:
        model=f"{NOISI_ITER}/model.h5",
        status=f"{NOISI_ITER}/status.json",
    log:
        f"{NOISI_LOGS}/iter/{{iteration}}/update.log",
    benchmark:
        f"{NOISI_BENCH}/iter/{{iteration}}/update.tsv"
    conda:
        "../envs/noisi.yaml"
    threads: 1
    params:
        stage=lambda wildcards: noisi_stage(max(int(wildcards.iteration) - 1, 0)),
        next_stage=lambda wildcards: stage_of(int(wildcards.iteration), NOISI_STAGES),
        measurement=NOISI["measurement"],
        problem=NOISI_PROBLEM,
        max_shrink=NOISI["lbfgs"]["max_shrink"],
    script:
        "../scripts/noisi_update.py"


rule correlations:
    input:
        greens=noisi_greens,
        stations=f"{NOISI_DIR}/stations.csv",
        model=f"{NOISI_ITER}/model.h5",
    output:
        h5=f"{NOISI_ITER}/correlations.h5",
        sac=directory(f"{NOISI_ITER}/correlations"),
    log:
        f"{NOISI_LOGS}/iter/{{iteration}}/correlations.log",
    benchmark:
        f"{NOISI_BENCH}/iter/{{iteration}}/correlations.tsv"
    conda:
        "../envs/noisi.yaml"
    threads: 1
    params:
        problem=NOISI_PROBLEM,
    script:
        "../scripts/noisi_correlations.py"


checkpoint measure:
    input:
        unpack(noisi_previous("misfit.json")),
        correlations=f"{NOISI_ITER}/correlations.h5",
        observed=f"{NOISI_DIR}/observed",
        stations=f"{NOISI_DIR}/stations.csv",
        status=f"{NOISI_ITER}/status.json",
    output:
        measurement=f"{NOISI_ITER}/measurement.h5",
        misfit=f"{NOISI_ITER}/misfit.json",
    log:
        f"{NOISI_LOGS}/iter/{{iteration}}/measure.log",
    benchmark:
        f"{NOISI_BENCH}/iter/{{iteration}}/measure.tsv"
    conda:
        "../envs/noisi.yaml"
    threads: 1
    params:
        stage=lambda wildcards: noisi_stage(wildcards.iteration),
        measurement=NOISI["measurement"],
        min_improvement=NOISI["min_improvement"],
    script:
        "../scripts/noisi_measure.py"


# Pairs are split over MPI ranks (seismake.noisi.mpirun); each rank runs one BLAS thread.
# The mpiexec and python of the rule's conda env are used when it has one, else those
# next to the running snakemake.
rule kernels:
    input:
        greens=noisi_greens,
        model=f"{NOISI_ITER}/model.h5",
        measurement=f"{NOISI_ITER}/measurement.h5",
    output:
        f"{NOISI_ITER}/kernels.h5",
    log:
        f"{NOISI_LOGS}/iter/{{iteration}}/kernels.log",
    benchmark:
        f"{NOISI_BENCH}/iter/{{iteration}}/kernels.tsv"
    conda:
        "../envs/noisi.yaml"
    threads: NOISI["mpi_tasks"]
    resources:
        mpi_tasks=NOISI["mpi_tasks"],
    params:
        bindir=noisi_mpi_bindir(),
    shell:
        'if [ -x "${{CONDA_PREFIX:-/nonexistent}}/bin/mpiexec" ]; then bin="$CONDA_PREFIX/bin"; '
        'else bin="{params.bindir}"; fi; '
        "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 "
        '"$bin/mpiexec" -n {resources.mpi_tasks} "$bin/python" -m seismake.noisi.mpirun '
        "--greens {input.greens} --model {input.model} "
        "--measurement {input.measurement} --output {output} > {log} 2>&1"


rule gradient:
    input:
        unpack(noisi_previous("lbfgs.h5")),
        kernels=f"{NOISI_ITER}/kernels.h5",
        model=f"{NOISI_ITER}/model.h5",
        misfit=f"{NOISI_ITER}/misfit.json",
        status=f"{NOISI_ITER}/status.json",
    output:
        gradient=f"{NOISI_ITER}/gradient.h5",
        lbfgs=f"{NOISI_ITER}/lbfgs.h5",
    log:
        f"{NOISI_LOGS}/iter/{{iteration}}/gradient.log",
    benchmark:
        f"{NOISI_BENCH}/iter/{{iteration}}/gradient.tsv"
    conda:
        "../envs/noisi.yaml"
    threads: 1
    params:
        stage=lambda wildcards: noisi_stage(wildcards.iteration),
        lbfgs={k: NOISI["lbfgs"][k] for k in ("memory", "upper_bound", "initial_step")},
    script:
        "../scripts/noisi_gradient.py"


rule trial_step:
    input:
        unpack(lambda wildcards: noisi_problem_input()),
        model=f"{NOISI_ITER}/model.h5",
        lbfgs=f"{NOISI_ITER}/lbfgs.h5",
    output:
        f"{NOISI_ITER}/trial/{{trial}}/misfit.json",
    log:
        f"{NOISI_LOGS}/iter/{{iteration}}/trial_{{trial}}.log",
    benchmark:
        f"{NOISI_BENCH}/iter/{{iteration}}/trial_{{trial}}.tsv"
    conda:
        "../envs/noisi.yaml"
    threads: 1
    params:
        stage=lambda wildcards: noisi_stage(wildcards.iteration),
        measurement=NOISI["measurement"],
        problem=NOISI_PROBLEM,
        factors=NOISI["lbfgs"]["trial_factors"],
    script:
        "../scripts/noisi_trial.py"


rule inversion_summary:
    input:
        unpack(noisi_summary_input),
    output:
        summary=f"{NOISI_DIR}/summary.json",
        misfit=report(
            f"{NOISI_DIR}/figures/misfit.png",
            caption="../report/noisi_misfit.rst",
            category="Noisi",
        ),
    log:
        f"{NOISI_LOGS}/inversion_summary.log",
    benchmark:
        f"{NOISI_BENCH}/inversion_summary.tsv"
    conda:
        "../envs/noisi.yaml"
    threads: 1
    params:
        stage=noisi_stage(NOISI["n_iterations"]),
        measurement=NOISI["measurement"],
        problem=NOISI_PROBLEM,
    script:
        "../scripts/noisi_summary.py"


rule inversion_figures:
    input:
        unpack(lambda wildcards: noisi_problem_input()),
        unpack(noisi_figures_input),
        start=f"{NOISI_DIR}/starting_model.h5",
        final=f"{NOISI_DIR}/iter/{NOISI['n_iterations']}/model.h5",
        target=[f"{NOISI_DIR}/target_model.h5"] if NOISI_HAS_TARGET else [],
        markers=[f"{NOISI_DIR}/target_markers.json"] if NOISI_HAS_TARGET else [],
    output:
        maps=report(
            f"{NOISI_DIR}/figures/maps.png",
            caption="../report/noisi_maps.rst",
            category="Noisi",
        ),
        kernels=report(
            f"{NOISI_DIR}/figures/kernels.png",
            caption="../report/noisi_kernels.rst",
            category="Noisi",
        ),
        waveforms=report(
            f"{NOISI_DIR}/figures/waveforms.png",
            caption="../report/noisi_waveforms.rst",
            category="Noisi",
        ),
    log:
        f"{NOISI_LOGS}/inversion_figures.log",
    benchmark:
        f"{NOISI_BENCH}/inversion_figures.tsv"
    conda:
        "../envs/noisi.yaml"
    threads: 1
    params:
        problem=NOISI_PROBLEM,
        n_pairs=NOISI["plot_pairs"],
        synthetic=NOISI["mode"] == "synthetic",
        stage=noisi_stage(NOISI["n_iterations"]),
        measurement=NOISI["measurement"],
    script:
        "../scripts/noisi_figures.py"


rule noisi_all:
    input:
        noisi_targets(),
