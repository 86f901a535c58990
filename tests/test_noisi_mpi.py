"""Kernels under ``mpiexec -n 2`` equal the serial result."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from seismake.noisi.forward import correlate, stack_greens, station_pairs
from seismake.noisi.greens import analytic_wavefield, greens_filename, write_wavefield
from seismake.noisi.grid import make_grid
from seismake.noisi.kernels import compute_kernels, read_kernels
from seismake.noisi.measure import MeasurementConfig, measure, pair_distances, write_measurement
from seismake.noisi.mpirun import kernels_from_files
from seismake.noisi.sources import SourceDistribution, make_source_model, write_source_model

pytestmark = pytest.mark.mpi

STATIONS = np.array([(0.3, -0.5), (-0.2, 0.6), (0.5, 0.4), (-0.6, -0.3)])


@pytest.fixture
def inputs(tmp_path):
    grid = make_grid(-1.5, 1.5, -1.5, 1.5, 40e3)
    paths, wavefields = [], []
    for i, (lat, lon) in enumerate(STATIONS):
        wf = analytic_wavefield(grid, lat, lon, f"XX.S{i}..MXZ", 1.0, 96, 3000.0, 80.0, 3000.0)
        path = tmp_path / greens_filename("XX", f"S{i}", "MXZ")
        write_wavefield(path, wf, dtype="float64")
        paths.append(path)
        wavefields.append(wf)
    greens = stack_greens(wavefields)
    model = make_source_model(
        grid,
        greens.frequencies_hz,
        [
            SourceDistribution("homogeneous", 0.2, 0.05, 0.02),
            SourceDistribution("gaussian_blob", 1.0, 0.1, 0.02, center_lon=1.0, sigma_m=80e3),
        ],
    )
    write_source_model(tmp_path / "model.h5", model)
    pairs = station_pairs(len(STATIONS), autocorrelations=True)
    observed = correlate(greens, model.with_model(model.model * 1.5), pairs, 60.0)
    synthetic = correlate(greens, model, pairs, 60.0)
    result = measure(
        synthetic.data,
        observed.data,
        synthetic.lags_s,
        pair_distances(STATIONS[:, 0], STATIONS[:, 1], pairs),
        MeasurementConfig("windowed_waveform", filters=[None, (0.03, 0.1)], half_width_s=10.0),
        pair_ids=synthetic.pair_ids,
    )
    write_measurement(tmp_path / "measurement.h5", result)
    return paths, greens, model, result, pairs


def test_mpi_kernels_equal_serial(tmp_path, inputs):
    paths, greens, model, result, pairs = inputs
    kernels_from_files(
        paths, tmp_path / "model.h5", tmp_path / "measurement.h5", tmp_path / "serial.h5"
    )
    serial, serial_ids = read_kernels(tmp_path / "serial.h5")
    np.testing.assert_array_equal(
        serial, compute_kernels(greens, model.spectral_basis, result.adjoint, pairs)
    )

    mpiexec = Path(sys.executable).parent / "mpiexec"
    command = [
        str(mpiexec), "-n", "2", sys.executable, "-m", "seismake.noisi.mpirun",
        "--greens", *map(str, paths),
        "--model", str(tmp_path / "model.h5"),
        "--measurement", str(tmp_path / "measurement.h5"),
        "--output", str(tmp_path / "mpi.h5"),
    ]  # fmt: skip
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    run = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stderr
    assert "rank 0 of 2" in run.stderr and "rank 1 of 2" in run.stderr
    parallel, parallel_ids = read_kernels(tmp_path / "mpi.h5")
    assert parallel_ids == serial_ids == result.pair_ids
    assert parallel.shape == (len(pairs), 2, 2, greens.lon.size)
    np.testing.assert_array_equal(parallel, serial)
