# Helpers of the noisi branch (rules/noisi.smk): config parts, paths, input functions
# that read the station_list, measure and update checkpoints.

import sys
from pathlib import Path

from seismake.noisi.iteration import read_misfit_record, read_status, stage_of
from seismake.noisi.stations import read_receivers

#: the noisi section (defaults filled in by the schema) and the parts each rule uses
NOISI = config["noisi"]
NOISI_DIR = f"results/{NOISI['name']}"
NOISI_LOGS = f"logs/{NOISI['name']}"
NOISI_BENCH = f"logs/benchmarks/{NOISI['name']}"
NOISI_ITER = f"{NOISI_DIR}/iter/{{iteration}}"
NOISI_STAGES = [stage["iterations"] for stage in NOISI["schedule"]]
NOISI_TRIALS = range(len(NOISI["lbfgs"]["trial_factors"]))
NOISI_GREENS = {
    **NOISI["greens"],
    **NOISI["medium"],
}
NOISI_SAMPLING = {k: NOISI["greens"][k] for k in ("fs_hz", "nt")}
NOISI_PROBLEM = {k: NOISI[k] for k in ("max_lag_s", "autocorrelations")}
NOISI_TRUTH = {
    "sources_csv": f"{config['archive']['url']}/truth/noise_sources.csv",
    "model_json": f"{config['archive']['url']}/truth/model.json",
}
#: the target: synthetic data, or the demo archive's truth for the noise branch's demo stacks
NOISI_HAS_TARGET = NOISI["mode"] == "synthetic" or (
    config["demo"]["enabled"] and not NOISI["observed"]["directory"]
)


wildcard_constraints:
    iteration=r"\d+",
    trial=r"\d+",
    receiver=r"[A-Za-z0-9]+\.[A-Za-z0-9]+\.[A-Za-z0-9]*\.[A-Za-z0-9]+",


def noisi_targets():
    """The last iteration's model, the summary and the figures."""
    n = NOISI["n_iterations"]
    figures = ["maps", "kernels", "waveforms", "misfit"]
    return [
        f"{NOISI_DIR}/iter/{n}/model.h5",
        f"{NOISI_DIR}/summary.json",
        *[f"{NOISI_DIR}/figures/{name}.png" for name in figures],
    ]


BRANCH_TARGETS["noisi"] = noisi_targets


def noisi_iter(iteration, name):
    """A file of iteration ``iteration``."""
    return f"{NOISI_DIR}/iter/{iteration}/{name}"


def noisi_stage(iteration):
    """The schedule entry (filters, smoothing, iterations) of an iteration."""
    return NOISI["schedule"][stage_of(int(iteration), NOISI_STAGES)]


def noisi_receivers():
    """Receivers of the inversion, after the station_list checkpoint ran."""
    return read_receivers(checkpoints.station_list.get().output[0])


def noisi_greens(wildcards=None):
    """Green's-function files of all receivers."""
    return [f"{NOISI_DIR}/greens/{r.seed_id}.h5" for r in noisi_receivers()]


def noisi_receiver(wildcards):
    """Codes and coordinates of one receiver: a parameter, so that a new station list
    (an ancient input) reruns only the receivers whose coordinates changed."""
    found = {r.seed_id: r for r in noisi_receivers()}
    if wildcards.receiver not in found:
        raise WorkflowError(
            f"{wildcards.receiver} is not a receiver of the noisi branch"
        )
    r = found[wildcards.receiver]
    return {
        "seed_id": r.seed_id,
        "latitude": r.station.latitude,
        "longitude": r.station.longitude,
    }


def noisi_stacks(wildcards=None):
    """Directories of observed correlation stacks (observed mode): noisi.observed.directory,
    else the noise branch's SAC directories (one per chunk of pairs)."""
    if NOISI["mode"] != "observed":
        return []
    if NOISI["observed"]["directory"]:
        return [NOISI["observed"]["directory"]]
    return noise_sac_directories()


def noisi_stack_subdirectory():
    """Where the SAC files lie in each stack directory: the noise branch keeps one
    subdirectory per stack method; an external directory holds them directly."""
    if NOISI["observed"]["directory"]:
        return ""
    return NOISI["observed"]["stack_method"]


def noisi_status(iteration):
    """Status of an iteration, after the update checkpoint that wrote it."""
    return read_status(checkpoints.update.get(iteration=iteration).output.status)


def noisi_problem_input():
    """Inputs of every job that evaluates misfits: Green's functions, receivers, observations."""
    return {
        "greens": noisi_greens(),
        "stations": f"{NOISI_DIR}/stations.csv",
        "observed": f"{NOISI_DIR}/observed",
    }


def noisi_update_input(wildcards):
    """Iteration 0: the starting model. Later: what the previous iteration's update needs;
    an iteration of a stopped stage or one that converged needs only its model."""
    i = int(wildcards.iteration)
    if i == 0:
        return {
            "start": f"{NOISI_DIR}/starting_model.h5",
            "stations": f"{NOISI_DIR}/stations.csv",
        }
    p = i - 1
    inputs = {
        "model": noisi_iter(p, "model.h5"),
        "status": noisi_iter(p, "status.json"),
    }
    if not noisi_status(p).active:
        return inputs
    inputs["misfit"] = checkpoints.measure.get(iteration=p).output.misfit
    if read_misfit_record(inputs["misfit"]).converged:
        return inputs
    return {
        **inputs,
        "lbfgs": noisi_iter(p, "lbfgs.h5"),
        "trials": [noisi_iter(p, f"trial/{k}/misfit.json") for k in NOISI_TRIALS],
        **noisi_problem_input(),
    }


def noisi_previous(name):
    """Input function: ``name`` of the previous iteration when it belongs to the same stage."""

    def previous(wildcards):
        i = int(wildcards.iteration)
        if i == 0 or stage_of(i - 1, NOISI_STAGES) != stage_of(i, NOISI_STAGES):
            return {}
        return {"previous": noisi_iter(i - 1, name)}

    return previous


def noisi_summary_input(wildcards):
    """Status of every iteration and the misfit of each that ran."""
    n = NOISI["n_iterations"]
    statuses = [noisi_iter(i, "status.json") for i in range(n + 1)]
    ran = [i for i in range(n) if noisi_status(i).active]
    return {
        "statuses": statuses,
        "misfits": [noisi_iter(i, "misfit.json") for i in ran],
        "start": f"{NOISI_DIR}/starting_model.h5",
        "final": noisi_iter(n, "model.h5"),
        **({"target": f"{NOISI_DIR}/target_model.h5"} if NOISI_HAS_TARGET else {}),
        **noisi_problem_input(),
    }


def noisi_figures_input(wildcards):
    """The first iteration's kernels, when it ran (not without observations)."""
    if not noisi_status(0).active:
        return {}
    return {"kernels": noisi_iter(0, "kernels.h5")}


def noisi_mpi_bindir():
    """Directory of the mpiexec and python next to the running snakemake (used unless a
    conda env of the rule provides its own)."""
    return str(Path(sys.executable).parent)
