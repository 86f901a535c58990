# Helpers shared by all branches: days, manifests, paths.

import pandas as pd

from seismake.archive import manifest_digest, read_manifest

BRANCHES = ["noise", "noisi", "array", "classify", "locate"]

#: branch name -> function giving the branch's final outputs; each rules/<branch>.smk
#: registers itself here.
BRANCH_TARGETS = {}


def day_list():
    """ISO dates from start_date (inclusive) to end_date (exclusive), as NoisePy."""
    days = pd.date_range(
        config["start_date"], config["end_date"], inclusive="left", freq="D"
    )
    if len(days) == 0:
        raise WorkflowError(
            f"config keys start_date/end_date: no day in [{config['start_date']}, "
            f"{config['end_date']})"
        )
    return [d.strftime("%Y-%m-%d") for d in days]


DAYS = day_list()


wildcard_constraints:
    day=r"\d{4}-\d{2}-\d{2}",


def selection():
    """Channel selection patterns (NoisePy's networks/stations/channels filters)."""
    return {k: config[k] for k in ("networks", "stations", "channels", "locations")}


def demo_archive_output():
    """The demo archive directory when the demo is on, else nothing (an external archive)."""
    return [config["archive"]["url"]] if config["demo"]["enabled"] else []


def day_manifest(day):
    """The day's manifest (a :class:`seismake.archive.Manifest`), after its checkpoint ran."""
    return read_manifest(checkpoints.manifest.get(day=day).output[0])


def manifest_path(wildcards):
    """The day's manifest, ancient: only its content (through manifest_params) reruns jobs."""
    return ancient(f"results/manifest/{wildcards.day}.json")


def all_manifests():
    """Every day's manifest, ancient, for rules that gather all days.

    Listing the manifests makes Snakemake re-evaluate such a rule after the manifest
    checkpoints, so it reruns only when a day job it depends on reruns, not on every run.
    """
    return [ancient(f"results/manifest/{day}.json") for day in DAYS]


def manifest_version(wildcards):
    """Digest of the day's manifest after the checkpoint ran; a changed archive reruns the day."""
    return manifest_digest(checkpoints.manifest.get(day=wildcards.day).output[0])


def all_targets():
    """Final outputs of every enabled part of the workflow.

    Stops with a message naming the config key when a branch is enabled that this
    version of seismake does not have.
    """
    targets = [
        "results/archive/station_map.png",
        "results/archive/availability.png",
        "results/archive/summary.csv",
    ]
    for branch in BRANCHES:
        if not config[branch]["enabled"]:
            continue
        if branch not in BRANCH_TARGETS:
            raise WorkflowError(
                f"config key {branch}.enabled: the {branch} branch is not available in this "
                f"version of seismake (available: {sorted(BRANCH_TARGETS) or 'none'})"
            )
        targets += BRANCH_TARGETS[branch]()
    return targets
