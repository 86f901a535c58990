"""The noisi branch through the real snakemake: a tiny synthetic inversion (misfit
decreases, raising n_iterations runs only the new iterations, MPI kernels equal the
serial library), observed mode on SAC stacks written by the library, and bad input
files named in the error."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np
import yaml
from obspy.io.sac import SACTrace

from seismake.noisi.forward import correlate, stack_greens, station_pairs
from seismake.noisi.greens import analytic_wavefield, read_wavefield
from seismake.noisi.grid import make_grid
from seismake.noisi.kernels import read_kernels
from seismake.noisi.mpirun import kernels_from_files
from seismake.noisi.observed import (
    correlation_set_traces,
    read_correlation_directory,
    write_correlation_directory,
)
from seismake.noisi.sources import SourceDistribution, make_source_model
from seismake.noisi.stations import Receiver, Station, read_receivers
from tests.conftest import benchmark_mtimes, jobs_run, make_workdir, run_snakemake

STATIONS = [
    {"network": "XX", "station": "A", "latitude": 0.5, "longitude": 0.0},
    {"network": "XX", "station": "B", "latitude": -0.3, "longitude": 0.45},
    {"network": "XX", "station": "C", "latitude": -0.3, "longitude": -0.45},
    {"network": "XX", "station": "D", "latitude": 0.0, "longitude": 0.0},
]
BLOB = {"center_lon": 1.0, "center_lat": 0.8, "sigma_m": 60000.0}
TINY = {
    "enabled": True,
    "mode": "synthetic",
    "grid": {"lon_min": -1.5, "lon_max": 1.5, "lat_min": -1.5, "lat_max": 1.5, "step_m": 60e3},
    "medium": {"velocity_mps": 3000.0, "q": 100.0, "density_kgm3": 3000.0},
    "greens": {"data_quantity": "DIS", "fs_hz": 0.5, "nt": 128, "fdomain": False},
    "spectrum": {"mean_hz": 0.05, "std_hz": 0.02},
    "start": [{"kind": "homogeneous", "amplitude": 0.1}],
    "max_lag_s": 100.0,
    "synthetic": {
        "channel": "MXZ",
        "stations": STATIONS,
        "target": [
            {"kind": "homogeneous", "amplitude": 0.1, "lon_range": [-10.0, 0.0]},
            {"kind": "gaussian_blob", "amplitude": 1.0, **BLOB},
        ],
        "noise_level": 0.05,
        "seed": 0,
    },
    "measurement": {"kind": "full_waveform", "half_width_s": 20.0, "taper_s": 10.0},
    "schedule": [{"filters": [[0.02, 0.06]], "smoothing_m": 80e3, "iterations": 5}],
    "n_iterations": 2,
    "mpi_tasks": 2,
}
TARGET = "noisi_all"


def write_config(work: Path, name: str, noisi: dict, demo: bool = True) -> tuple[str, str]:
    cfg = {"noisi": noisi}
    if not demo:
        cfg["demo"] = {"enabled": False, "seed": 7, "day_length_s": 600}
    (work / name).write_text(yaml.safe_dump(cfg))
    return ("--configfile", name)


def test_synthetic_inversion_extends_with_new_iterations_only(tmp_path):
    work = make_workdir(tmp_path / "wf")
    run_snakemake(work, TARGET, *write_config(work, "noisi.yaml", TINY))
    out = work / "results/noisi"

    # the misfit decreases at every iteration and overall
    records = [json.loads((out / f"iter/{i}/misfit.json").read_text()) for i in range(2)]
    status = json.loads((out / "iter/2/status.json").read_text())
    misfits = [r["total"] for r in records] + [status["step"]["misfit_after"]]
    assert np.all(np.diff(misfits) < 0), misfits
    summary = json.loads((out / "summary.json").read_text())
    assert summary["misfit_final"] < 0.5 * summary["misfit_start"]
    assert summary["iterations_used"] == 2 and summary["correlation_with_target"] > 0.5
    for name in ("maps", "kernels", "waveforms", "misfit"):
        assert (out / f"figures/{name}.png").stat().st_size > 10_000

    # the kernels rule (mpiexec -n 2) equals the serial library on the same files
    greens = [out / f"greens/{r.seed_id}.h5" for r in read_receivers(out / "stations.csv")]
    assert len(greens) == 4
    kernels_from_files(
        greens, out / "iter/1/model.h5", out / "iter/1/measurement.h5", tmp_path / "serial.h5"
    )
    serial, serial_ids = read_kernels(tmp_path / "serial.h5")
    mpi, mpi_ids = read_kernels(out / "iter/1/kernels.h5")
    assert mpi_ids == serial_ids and len(mpi_ids) == 6
    np.testing.assert_array_equal(mpi, serial)
    assert "rank 1 of 2" in (work / "logs/noisi/iter/1/kernels.log").read_text()

    # nothing to do the second time; raising n_iterations runs only the new iteration
    before = benchmark_mtimes(work)
    proc = run_snakemake(work, TARGET, "--configfile", "noisi.yaml")
    assert "Nothing to be done" in proc.stdout + proc.stderr
    more = copy.deepcopy(TINY) | {"n_iterations": 3}
    run_snakemake(work, TARGET, *write_config(work, "more.yaml", more))
    ran = jobs_run(before, benchmark_mtimes(work))
    assert {r for r in ran if "/iter/" in r} == {
        *(f"noisi/iter/2/{job}.tsv" for job in ("correlations", "measure", "kernels")),
        *(f"noisi/iter/2/{job}.tsv" for job in ("gradient", "trial_0", "trial_1", "trial_2")),
        "noisi/iter/3/update.tsv",
    }
    assert ran - {r for r in ran if "/iter/" in r} == {
        "noisi/inversion_summary.tsv",
        "noisi/inversion_figures.tsv",
    }
    extended = json.loads((out / "summary.json").read_text())
    assert extended["iterations"] == 3 and extended["misfit_final"] < summary["misfit_final"]


def _observed_stacks(directory: Path) -> list[Receiver]:
    """ZZ stacks at 2 Hz (four times the model's rate) of the tiny target (exact spectra of
    the Green's functions), stored as sums of 10 windows (user0 = 10), plus an NN stack
    that observed mode must ignore."""
    grid = make_grid(-1.5, 1.5, -1.5, 1.5, 60e3)
    vertical = [
        Receiver(Station("SY", s["station"], s["latitude"], s["longitude"]), "BHZ")
        for s in STATIONS
    ]
    wavefields = [
        analytic_wavefield(
            grid, r.station.latitude, r.station.longitude, r.seed_id, 2.0, 512,
            3000.0, 100.0, 3000.0, data_quantity="DIS", fdomain=True,
        )
        for r in vertical
    ]  # fmt: skip
    greens = stack_greens(wavefields)
    corr = correlate(greens, _tiny_target(grid, greens), station_pairs(len(vertical)), 150.0)
    traces = [
        replace(tr, data=10.0 * tr.data, n_stacked=10.0)
        for tr in correlation_set_traces(corr, vertical)
    ]
    nn = replace(traces[0], station1="SY.A..BHN", station2="SY.B..BHN")
    write_correlation_directory(directory, [*traces, nn])
    return vertical


def _tiny_target(grid, greens):
    return make_source_model(
        grid,
        greens.frequencies_hz,
        [
            SourceDistribution("homogeneous", 0.1, 0.05, 0.02, lon_range=(-10.0, 0.0)),
            SourceDistribution("gaussian_blob", 1.0, 0.05, 0.02, **BLOB),
        ],
    )


def test_observed_mode_inverts_sac_stacks(tmp_path):
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    vertical = _observed_stacks(stacks)
    work = make_workdir(tmp_path / "wf")
    observed = copy.deepcopy(TINY) | {
        "mode": "observed",
        "observed": {"directory": str(stacks), "component": "Z"},
        "greens": TINY["greens"] | {"fdomain": True},  # exact spectra at both sampling rates
    }
    args = write_config(work, "observed.yaml", observed, demo=False)
    run_snakemake(work, TARGET, *args)
    out = work / "results/noisi"

    # receivers and observations come from the ZZ stacks, on the model's lag axis
    assert [r.seed_id for r in read_receivers(out / "stations.csv")] == [
        r.seed_id for r in vertical
    ]
    model_greens = stack_greens([read_wavefield(out / f"greens/{r.seed_id}.h5") for r in vertical])
    target = _tiny_target(make_grid(-1.5, 1.5, -1.5, 1.5, 60e3), model_greens)
    expected = correlate(model_greens, target, station_pairs(4), 100.0)
    got = {(t.station1, t.station2): t for t in read_correlation_directory(out / "observed")}
    assert len(got) == 6
    scale = np.abs(expected.data).max()
    for (a, b), trace in zip(expected.pair_ids, expected.data, strict=True):
        assert got[(a, b)].delta_s == 2.0
        # the 2 Hz traces band-limited to the model's 0.25 Hz Nyquist (the source
        # spectrum is negligible above 0.15 Hz)
        np.testing.assert_allclose(got[(a, b)].data, trace, atol=1e-4 * scale)

    summary = json.loads((out / "summary.json").read_text())
    assert summary["misfit_final"] < 0.5 * summary["misfit_start"]
    assert summary["correlation_with_target"] is None


def test_bad_input_files_are_named(tmp_path):
    work = make_workdir(tmp_path / "wf")
    args = write_config(work, "noisi.yaml", TINY)
    greens = [f"results/noisi/greens/XX.{s['station']}..MXZ.h5" for s in STATIONS]
    run_snakemake(work, *greens, *args)
    # a Green's-function file whose data disagree with its stats (one sample too many)
    bad = work / greens[1]
    with h5py.File(bad, "r+") as f:
        data = f["data"][()]
        del f["data"]
        f.create_dataset("data", data=np.hstack([data, data[:, :1]]))
    proc = run_snakemake(work, TARGET, *args, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "XX.B..MXZ.h5: data has shape (" in out and "expected (ntraces, nt)" in out

    # observed mode: a stack without the second station's code (kevnm) is named
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    _observed_stacks(stacks)
    broken = sorted(stacks.glob("*BHZ--*BHZ.sac"))[2]
    sac = SACTrace.read(str(broken))
    sac.kevnm = None
    sac.write(str(broken))
    observed = copy.deepcopy(TINY) | {"mode": "observed", "observed": {"directory": str(stacks)}}
    args = write_config(work, "observed.yaml", observed | {"name": "noisi_obs"}, demo=False)
    proc = run_snakemake(work, "results/noisi_obs/stations.csv", *args, check=False)
    assert proc.returncode != 0
    assert f"{broken.name}: missing essential SAC header 'kevnm'" in proc.stdout + proc.stderr


def test_no_observations_give_a_well_formed_no_op(tmp_path):
    """Stacks of days too short for one window (no SAC file): every iteration copies the
    starting model, and the summary says why."""
    empty = tmp_path / "stacks"
    empty.mkdir()
    work = make_workdir(tmp_path / "wf")
    observed = copy.deepcopy(TINY) | {"mode": "observed", "observed": {"directory": str(empty)}}
    run_snakemake(work, TARGET, *write_config(work, "observed.yaml", observed, demo=False))
    out = work / "results/noisi"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["iterations_run"] == 0 and summary["misfit_final"] is None
    assert all("no observed correlations" in note for note in summary["notes"].values())
    assert not (out / "iter/0/correlations.h5").exists()
    for name in ("maps", "kernels", "waveforms", "misfit"):
        assert (out / f"figures/{name}.png").stat().st_size > 1_000
