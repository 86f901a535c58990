"""The real snakemake on the demo: reruns only what changed, bad config named."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import yaml

from seismake.synth import DemoSpec, write_demo_archive
from tests.conftest import (
    BRANCHES_OFF,
    SMALL_SPEC,
    benchmark_mtimes,
    external_archive_config,
    jobs_run,
    make_workdir,
    run_snakemake,
)


def test_demo_reruns_only_what_changed(tmp_path):
    work = make_workdir(tmp_path / "wf")
    (work / "off.yaml").write_text(yaml.safe_dump(BRANCHES_OFF))
    args = ("--configfile", "config/test.yaml", "off.yaml")
    run_snakemake(work, *args)
    summary = pd.read_csv(work / "results/archive/summary.csv")
    assert set(summary.day) == {"2024-01-01", "2024-01-02"}
    assert (work / "results/archive/station_map.png").stat().st_size > 10_000

    # a second run has nothing to do
    before = benchmark_mtimes(work)
    proc = run_snakemake(work, *args)
    assert "Nothing to be done" in proc.stdout + proc.stderr
    assert jobs_run(before, benchmark_mtimes(work)) == set()

    # listing the archive again (the manifests are recomputed) reruns nothing else
    manifests = {p: p.read_bytes() for p in (work / "results/manifest").glob("*.json")}
    before = benchmark_mtimes(work)
    run_snakemake(work, *args, "--forcerun", "manifest")
    ran = jobs_run(before, benchmark_mtimes(work))
    assert ran == {"manifest/2024-01-01.tsv", "manifest/2024-01-02.tsv"}
    assert manifests == {p: p.read_bytes() for p in manifests}, "unchanged manifests rewritten"

    # adding a day adds only that day's jobs (plus the archive and the overview)
    before = benchmark_mtimes(work)
    run_snakemake(work, *args, "--config", "end_date=2024-01-04")
    ran = jobs_run(before, benchmark_mtimes(work))
    assert {r for r in ran if r.startswith("availability/")} == {"availability/2024-01-03.tsv"}
    assert "archive_overview.tsv" in ran
    assert manifests == {p: p.read_bytes() for p in manifests}, "old days' manifests changed"
    summary = pd.read_csv(work / "results/archive/summary.csv")
    assert set(summary.day) == {"2024-01-01", "2024-01-02", "2024-01-03"}


def external_config(work, archive, end_date="2024-01-05"):
    cfg = external_archive_config(str(archive), "2024-01-01", end_date)
    (work / "external.yaml").write_text(yaml.safe_dump(cfg))
    return ("--configfile", "external.yaml")


def test_new_day_in_archive_reruns_only_that_day(tmp_path, small_archive):
    archive = tmp_path / "archive"
    shutil.copytree(small_archive, archive)
    work = make_workdir(tmp_path / "wf")
    args = external_config(work, archive)
    run_snakemake(work, *args)
    empty = json.loads((work / "results/manifest/2024-01-04.json").read_text())
    assert empty["objects"] == []

    # the archive receives a fourth day; listing again reruns only that day
    spec4 = DemoSpec(**{**SMALL_SPEC.__dict__, "n_days": 4})
    write_demo_archive(archive, spec4, days=[3])
    before = benchmark_mtimes(work)
    run_snakemake(work, *args, "--forcerun", "manifest")
    ran = jobs_run(before, benchmark_mtimes(work))
    assert {r for r in ran if not r.startswith("manifest/")} == {
        "availability/2024-01-04.tsv",
        "archive_overview.tsv",
    }
    full = json.loads((work / "results/manifest/2024-01-04.json").read_text())
    assert len(full["objects"]) > 10


def test_bad_input_is_skipped_named_and_counted(tmp_path, small_archive):
    archive = tmp_path / "archive"
    shutil.copytree(small_archive, archive)
    day_files = sorted((archive / "continuous_waveforms/2024/2024_001").glob("*.ms"))
    corrupt = day_files[0]
    corrupt.write_bytes(b"this is not miniSEED " * 300)
    xml = sorted((archive / "FDSNstationXML").rglob("*.xml"))[-1]
    xml.write_bytes(xml.read_bytes()[: len(xml.read_bytes()) // 2])
    work = make_workdir(tmp_path / "wf")
    run_snakemake(work, *external_config(work, archive, end_date="2024-01-03"))

    problems = json.loads(
        (work / "results/archive/availability/2024-01-01.problems.json").read_text()
    )
    assert [p["object"].rsplit("/", 1)[1] for p in problems["problems"]] == [corrupt.name]
    assert "corrupt miniSEED" in problems["problems"][0]["reason"]
    manifest = json.loads((work / "results/manifest/2024-01-01.json").read_text())
    reasons = " ".join(s["reason"] for s in manifest["skipped"])
    assert xml.name in reasons and "unreadable StationXML" in reasons
    summary = pd.read_csv(work / "results/archive/summary.csv").fillna("")
    assert (summary.problems != "").sum() >= 2
    # everything else was processed
    kept = pd.read_csv(work / "results/archive/availability/2024-01-01.csv")
    assert kept.seed_id.nunique() == len(manifest["objects"]) - 1


def test_bad_config_key_is_named(tmp_path):
    work = make_workdir(tmp_path / "wf")
    (work / "typo.yaml").write_text("archive:\n  retires: 3\n")
    proc = run_snakemake(work, "-n", "--configfile", "typo.yaml", check=False)
    assert proc.returncode != 0
    assert "retires" in proc.stdout + proc.stderr

    (work / "type.yaml").write_text("demo:\n  enabled: true\n  seed: many\n  day_length_s: 60\n")
    proc = run_snakemake(work, "-n", "--configfile", "type.yaml", check=False)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "seed" in out and "'many' is not of type 'integer'" in out

    (work / "branch.yaml").write_text("classify:\n  enabled: true\n")
    proc = run_snakemake(work, "-n", "--configfile", "branch.yaml", check=False)
    assert proc.returncode != 0
    assert "config key classify.enabled" in proc.stdout + proc.stderr
