"""The array branch in the real snakemake: demo plane waves found, reruns only a changed day."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import yaml
from obspy import UTCDateTime

from tests.conftest import benchmark_mtimes, jobs_run, make_workdir, run_snakemake

OVERRIDES = Path(__file__).with_name("array_config.yaml")
BAZ_TOL_DEG = 5.0
VEL_REL_TOL = 0.05


def _workdir(path: Path) -> Path:
    work = make_workdir(path)
    shutil.copy(OVERRIDES, work / OVERRIDES.name)
    return work


def _posix(column: pd.Series) -> np.ndarray:
    return np.array([UTCDateTime(s).timestamp for s in column])


def _read_times(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path)
    df["start"], df["end"] = _posix(df["start"]), _posix(df["end"])
    return df


def _processed(work: Path) -> list[tuple[float, float, int]]:
    """(record start, record end, element count) of every day's FK file."""
    spans = []
    for path in sorted((work / "results/array/fk").glob("*.h5")):
        with h5py.File(path, "r") as h5:
            spans.append(
                (
                    UTCDateTime(h5.attrs["t_start"]).timestamp,
                    UTCDateTime(h5.attrs["t_end"]).timestamp,
                    len(h5["elements/id"]),
                )
            )
    return spans


def _check_against_truth(work: Path, truth_csv: Path) -> int:
    """Every truth wave inside the processed time detected, no detection elsewhere."""
    truth = _read_times(truth_csv)
    det = _read_times(work / "results/array/detections.csv")
    tol = pd.read_csv(work / "results/array/fbands.csv")["win"].max()
    spans = _processed(work)

    def overlapping(t0, t1):
        return det[(det.start <= t1 + tol) & (det.end >= t0 - tol)]

    inside = 0
    for wave in truth.itertuples():
        if not any(a <= wave.start and wave.end <= b for a, b, _ in spans):
            continue
        inside += 1
        found = overlapping(wave.start, wave.end)
        assert len(found), f"plane wave {wave} not detected"
        baz_err = np.abs((found.backazimuth_deg - wave.backazimuth_deg + 180.0) % 360.0 - 180.0)
        vel_err = np.abs(found.velocity_km_s / wave.velocity_km_s - 1.0)
        good = found[(baz_err <= BAZ_TOL_DEG) & (vel_err <= VEL_REL_TOL)]
        assert len(good), f"plane wave {wave}: detections off\n{found}"
        best = good.iloc[0]
        assert abs(best.start - wave.start) <= tol and abs(best.end - wave.end) <= tol
    for d in det.itertuples():
        assert ((truth.start <= d.end + tol) & (truth.end >= d.start - tol)).any(), (
            f"detection {d} where the truth has no plane wave"
        )
    return inside


def test_demo_plane_waves_detected_with_the_truth_s_direction_and_speed(tmp_path):
    work = _workdir(tmp_path / "wf")
    args = ("--configfile", "config/test.yaml", OVERRIDES.name)
    run_snakemake(work, *args)
    truth_csv = work / "resources/demo_archive/truth/plane_waves.csv"
    # config/test.yaml: two days of 900 s with two plane waves each, all inside the data
    assert _check_against_truth(work, truth_csv) == len(pd.read_csv(truth_csv)) == 4
    assert [n for _, _, n in _processed(work)] == [9, 9]

    table = pd.read_csv(work / "results/array/truth_comparison.csv")
    assert list(table.status) == ["matched"] * 4
    assert (table.baz_error_deg.abs() <= BAZ_TOL_DEG).all()
    assert (table.velocity_error_rel.abs() <= VEL_REL_TOL).all()

    for day in ("2024-01-01", "2024-01-02"):
        assert (work / f"results/array/fk_{day}.png").stat().st_size > 20_000
    assert (work / "results/array/slowness_best.png").stat().st_size > 20_000
    run_snakemake(work, *args, "--report", "report.html")
    html = (work / "report.html").read_text(errors="replace")
    for name in ("fk_2024-01-01.png", "slowness_best.png", "truth_comparison.csv"):
        assert name in html


def test_array_rules_rerun_only_for_a_changed_day(tmp_path, small_archive):
    archive = tmp_path / "archive"
    shutil.copytree(small_archive, archive)
    work = _workdir(tmp_path / "wf")
    cfg = {
        "start_date": "2024-01-01",
        "end_date": "2024-01-04",
        "archive": {"url": str(archive), "retries": 1, "backoff_s": 0.1, "timeout_s": 5},
        "demo": {"enabled": False},
    }
    (work / "external.yaml").write_text(yaml.safe_dump(cfg))
    args = ("--configfile", "external.yaml", OVERRIDES.name)
    run_snakemake(work, *args)
    assert _check_against_truth(work, archive / "truth/plane_waves.csv") == 6
    assert not (work / "results/array/truth_comparison.csv").exists()  # demo off: no truth

    before = benchmark_mtimes(work)
    proc = run_snakemake(work, *args)
    assert "Nothing to be done" in proc.stdout + proc.stderr
    assert jobs_run(before, benchmark_mtimes(work)) == set()

    # one array element loses its second day: only that day's FK reruns
    (archive / "continuous_waveforms/2024/2024_002/SYAR09_BHZ___2024002.ms").unlink()
    before = benchmark_mtimes(work)
    run_snakemake(work, *args, "--forcerun", "manifest")
    ran = {r for r in jobs_run(before, benchmark_mtimes(work)) if r.startswith("array/")}
    assert ran == {
        "array/fk/2024-01-02.tsv",
        "array/aggregate.tsv",
        "array/fk_figure/2024-01-01.tsv",
        "array/fk_figure/2024-01-02.tsv",
        "array/fk_figure/2024-01-03.tsv",
        "array/slowness_figure.tsv",
    }
    assert [n for _, _, n in _processed(work)] == [9, 8, 9]
    assert _check_against_truth(work, archive / "truth/plane_waves.csv") == 6


def test_band_types_from_the_config(tmp_path):
    """fbands alone: the 15 PMCC bands 0.01-5 Hz (200 s -> 30 s windows), then extended."""
    work = _workdir(tmp_path / "wf")
    ratio = 500.0 ** (1.0 / 15.0)
    for kind, n_bands, fmax in (("pmcc", 15, 5.0), ("extended_pmcc", 16, 5.0 * ratio)):
        (work / "bands.yaml").write_text(
            yaml.safe_dump({"array": {"bands": {"type": kind, "pmcc_fmax_hz": 8.0}}})
        )
        run_snakemake(
            work, "results/array/fbands.csv", "--configfile", OVERRIDES.name, "bands.yaml"
        )
        bands = pd.read_csv(work / "results/array/fbands.csv")
        assert len(bands) == n_bands and list(bands.band) == list(range(1, n_bands + 1))
        np.testing.assert_allclose(bands.fmin, 0.01 * ratio ** np.arange(n_bands), rtol=1e-9)
        np.testing.assert_allclose(bands.fmax.iloc[-1], fmax, rtol=1e-9)
        np.testing.assert_allclose(bands.win.iloc[[0, 14]], [200.0, 30.0], rtol=1e-9)
        np.testing.assert_allclose(bands.step, 0.1 * bands.win, rtol=1e-9)
