# Helpers of the noise branch (rules/noise.smk): config parts, chunk labels, paths, the
# cross-key checks of the noise section, and the branch's final outputs.

import dataclasses

from seismake.noise.params import CorrelationParams, StackParams


wildcard_constraints:
    chunk=r"\d+",
    component=r"[ENZRT]{2}",


def noise_chunks():
    """Chunk labels 00, 01, ... of the stack jobs (noise.n_chunks of them)."""
    return [f"{i:02d}" for i in range(config["noise"]["n_chunks"])]


def noise_params(cls):
    """The config keys of the noise section that are fields of ``cls`` (NoisePy names)."""
    return {f.name: config["noise"][f.name] for f in dataclasses.fields(cls)}


def noise_stack_files():
    """Stack HDF5 files of every chunk."""
    return expand("results/noise/stack/{chunk}.h5", chunk=noise_chunks())


def noise_sac_directories():
    """SAC directories of every chunk: {dir}/{method}/NET.STA.LOC.CHA--NET.STA.LOC.CHA.sac."""
    return expand("results/noise/sac/{chunk}", chunk=noise_chunks())


def noise_targets():
    """Final outputs of the noise branch."""
    targets = noise_stack_files() + noise_sac_directories()
    targets += expand(
        "results/noise/moveout_{component}.{ext}",
        component=config["noise"]["moveout"]["components"],
        ext=["png", "csv"],
    )
    if config["noise"]["upload"]["enabled"]:
        targets.append("results/noise/upload.json")
    return targets


def noise_check_config():
    """Stop with a message naming the keys when noise settings contradict each other."""
    noise = config["noise"]
    try:
        CorrelationParams.from_dict(noise_params(CorrelationParams))
        stack = StackParams.from_dict(noise_params(StackParams))
    except ValueError as err:
        raise WorkflowError(f"config section noise: {err}")
    if noise["rotation"] and noise["ncomp"] != 3:
        raise WorkflowError(
            "config keys noise.rotation and noise.ncomp: rotation needs ncomp 3"
        )
    moveout = noise["moveout"]
    for comp in moveout["components"]:
        rotated = "R" in comp or "T" in comp
        if rotated and not noise["rotation"]:
            raise WorkflowError(
                f"config key noise.moveout.components: {comp} needs noise.rotation: true"
            )
        if not rotated and comp != "ZZ" and noise["ncomp"] != 3:
            raise WorkflowError(
                f"config key noise.moveout.components: {comp} needs noise.ncomp: 3"
            )
    if moveout["method"] not in stack.methods:
        raise WorkflowError(
            f"config key noise.moveout.method: {moveout['method']} is not computed by "
            f"noise.stack_method={noise['stack_method']} (computed: {list(stack.methods)})"
        )
    if noise["upload"]["enabled"] and not noise["upload"]["url"]:
        raise WorkflowError(
            "config key noise.upload.url: an s3:// URL is needed for the upload"
        )


if config["noise"]["enabled"]:
    noise_check_config()


BRANCH_TARGETS["noise"] = noise_targets
