"""Measurements, adjoint sources and kernels: finite-difference gradient test for each
misfit, kernels against a per-grid-point loop, filter adjointness, windows, I/O."""

import numpy as np
import pytest

from seismake.noisi.forward import correlate, stack_greens, station_pairs
from seismake.noisi.greens import analytic_wavefield
from seismake.noisi.grid import make_grid
from seismake.noisi.kernels import adjoint_spectra, compute_kernels, read_kernels, write_kernels
from seismake.noisi.measure import (
    MEASUREMENTS,
    MeasurementConfig,
    align_observed,
    apply_filters,
    lag_windows,
    measure,
    pair_distances,
    read_measurement,
    write_measurement,
)
from seismake.noisi.optimize import assemble_gradient
from seismake.noisi.sacio import CorrelationTrace
from seismake.noisi.sources import SourceDistribution, make_source_model

STATIONS = np.array([(0.3, -0.5), (-0.2, 0.6), (0.5, 0.4)])
MAX_LAG = 100.0


@pytest.fixture(scope="module")
def setup():
    grid = make_grid(-1.5, 1.5, -1.5, 1.5, 30e3)
    wfs = [
        analytic_wavefield(grid, la, lo, f"XX.S{i}..MXZ", 1.0, 128, 3000.0, 50.0, 3000.0)
        for i, (la, lo) in enumerate(STATIONS)
    ]
    greens = stack_greens(wfs)
    base = make_source_model(
        grid,
        greens.frequencies_hz,
        [
            SourceDistribution("homogeneous", 1.0, 0.05, 0.02),
            SourceDistribution("homogeneous", 1.0, 0.1, 0.02),
        ],
    )
    rng = np.random.default_rng(1)
    target = base.with_model(rng.uniform(0.5, 2.0, base.model.shape))
    start = base.with_model(rng.uniform(0.5, 2.0, base.model.shape))
    pairs = station_pairs(3, autocorrelations=True)
    observed = correlate(greens, target, pairs, MAX_LAG).data
    dist = pair_distances(STATIONS[:, 0], STATIONS[:, 1], pairs)
    return greens, start, pairs, observed, dist


@pytest.mark.parametrize("kind", MEASUREMENTS)
def test_kernel_predicts_misfit_change(setup, kind):
    greens, start, pairs, observed, dist = setup
    config = MeasurementConfig(
        kind=kind,
        filters=[(0.02, 0.08), (0.05, 0.15)],
        group_speed_mps=3000.0,
        half_width_s=15.0,
        taper_s=10.0,
    )

    def misfit(model):
        corr = correlate(greens, model, pairs, MAX_LAG)
        return measure(corr.data, observed, corr.lags_s, dist, config)

    result = misfit(start)
    assert result.total > 0
    kernels = compute_kernels(greens, start.spectral_basis, result.adjoint, pairs)
    assert kernels.shape == (len(pairs), 2, 2, greens.lon.size)  # pairs x basis x filters x grid
    gradient = assemble_gradient(kernels, start.surface_areas_m2)
    rng = np.random.default_rng(7)
    perturbation = rng.normal(size=start.model.shape) * start.model
    eps = 1e-4
    plus = misfit(start.with_model(start.model + eps * perturbation)).total
    minus = misfit(start.with_model(start.model - eps * perturbation)).total
    finite_difference = (plus - minus) / (2 * eps)
    predicted = np.sum(gradient * perturbation)
    assert abs(predicted - finite_difference) < 1e-3 * abs(finite_difference)


def test_kernels_equal_per_grid_point_loop(setup):
    greens, start, pairs, observed, dist = setup
    config = MeasurementConfig(kind="windowed_waveform", filters=[None, (0.03, 0.1)])
    corr = correlate(greens, start, pairs, MAX_LAG)
    adjoint = measure(corr.data, observed, corr.lags_s, dist, config).adjoint
    kernels = compute_kernels(greens, start.spectral_basis, adjoint, pairs)
    # reference: noisi's loop, one correlation per grid point and basis function, dotted
    # with the adjoint source over lags
    n_fft, n_half = greens.n_fft, (adjoint.shape[-1] - 1) // 2
    p, (i, j) = 4, pairs[4]
    for k in (0, 17, greens.lon.size - 1):
        for b in range(2):
            prod = np.conj(greens.spectra[i, k]) * greens.spectra[j, k] * start.spectral_basis[b]
            trace = np.fft.irfft(prod, n=n_fft) * greens.fs_hz
            trace = np.concatenate([trace[-n_half:], trace[: n_half + 1]])
            for m in range(2):
                assert kernels[p, b, m, k] == pytest.approx(np.sum(trace * adjoint[p, m]), rel=1e-9)


def test_filter_operator_is_symmetric():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(2, 201))
    bands = [(0.02, 0.1), (0.1, 0.3)]
    lx = apply_filters(x, 1.0, bands)
    ly = apply_filters(y, 1.0, bands)
    for m in range(2):
        assert np.dot(lx[m], y) == pytest.approx(np.dot(x, ly[m]), rel=1e-10)
    # a narrow band keeps a sinusoid inside it and removes one outside
    t = np.arange(-300, 301)
    inside = apply_filters(np.cos(2 * np.pi * 0.05 * t), 1.0, [(0.03, 0.08)])[0]
    outside = apply_filters(np.cos(2 * np.pi * 0.3 * t), 1.0, [(0.03, 0.08)])[0]
    assert np.abs(inside[200:400]).max() == pytest.approx(1.0, abs=0.02)
    assert np.abs(outside[200:400]).max() < 1e-3


def test_windows_and_simple_measurements():
    lags = np.arange(-100, 101, dtype=float)
    w_plus, w_minus = lag_windows(lags, np.array([120e3]), 3000.0, 10.0, 5.0)
    assert w_plus[0, lags == 40][0] == 1.0 and w_plus[0, lags == 50][0] == 1.0
    assert w_plus[0, lags == 55][0] == pytest.approx(0.0, abs=1e-15)
    assert w_plus[0, lags == -40][0] == 0.0
    np.testing.assert_array_equal(w_minus, w_plus[:, ::-1])
    rng = np.random.default_rng(4)
    syn, obs = rng.normal(size=(2, 1, 201))
    full = measure(syn, obs, lags, 120e3, MeasurementConfig("full_waveform"))
    assert full.total == pytest.approx(0.5 * np.sum((syn - obs) ** 2))
    np.testing.assert_allclose(full.adjoint[0, 0], (syn - obs)[0])
    asym = measure(
        syn, syn.copy(), lags, 120e3, MeasurementConfig("ln_energy_ratio", half_width_s=10.0)
    )
    assert asym.total == pytest.approx(0.0, abs=1e-14)
    # ln_energy_ratio by hand, unfiltered
    cfg = MeasurementConfig("ln_energy_ratio", half_width_s=10.0, taper_s=5.0)
    res = measure(syn, obs, lags, 120e3, cfg)
    ratio = [np.log(np.sum((w_plus * c) ** 2) / np.sum((w_minus * c) ** 2)) for c in (syn, obs)]
    assert res.total == pytest.approx(0.5 * (ratio[0] - ratio[1]) ** 2, rel=1e-12)


def test_empty_window_is_ignored():
    lags = np.arange(-50, 51, dtype=float)
    syn = np.zeros((1, 101))
    syn[0, 10] = 1.0
    res = measure(
        syn, syn + 1e-3, lags, 60e3, MeasurementConfig("ln_energy_ratio", half_width_s=5.0)
    )
    assert res.total == 0.0 and not res.adjoint.any()


def test_align_observed_reverses_swapped_pairs_and_checks_sampling():
    lags = np.arange(-20, 21, dtype=float)
    data = np.arange(61, dtype=float)
    trace = CorrelationTrace(data, 1.0, -30.0, "XX.B..MXZ", "XX.A..MXZ", 0, 0, 0, 1)
    pairs = [("XX.A..MXZ", "XX.B..MXZ"), ("XX.A..MXZ", "XX.C..MXZ")]
    observed, available = align_observed([trace], pairs, lags)
    np.testing.assert_array_equal(available, [True, False])
    np.testing.assert_array_equal(observed[0], data[10:51][::-1])
    assert not observed[1].any()
    coarse = CorrelationTrace(data, 2.0, -60.0, "XX.A..MXZ", "XX.B..MXZ", 0, 0, 0, 1)
    with pytest.raises(ValueError, match=r"XX\.A\.\.MXZ--XX\.B\.\.MXZ: sampling interval"):
        align_observed([coarse], pairs, lags)
    short = CorrelationTrace(data[:21], 1.0, -10.0, "XX.A..MXZ", "XX.B..MXZ", 0, 0, 0, 1)
    with pytest.raises(ValueError, match="do not cover"):
        align_observed([short], pairs, lags)


def test_measurement_and_kernel_files_roundtrip(tmp_path, setup):
    greens, start, pairs, observed, dist = setup
    config = MeasurementConfig("energy_diff", filters=[None, (0.03, 0.1)])
    corr = correlate(greens, start, pairs, MAX_LAG)
    result = measure(corr.data, observed, corr.lags_s, dist, config, pair_ids=corr.pair_ids)
    write_measurement(tmp_path / "measurement.h5", result)
    back = read_measurement(tmp_path / "measurement.h5")
    np.testing.assert_array_equal(back.adjoint, result.adjoint)
    assert back.pair_ids == corr.pair_ids and back.filters == [None, (0.03, 0.1)]
    kernels = compute_kernels(greens, start.spectral_basis, back.adjoint, pairs)
    write_kernels(
        tmp_path / "kernels.h5", kernels, back.pair_ids, greens.lon, greens.lat, back.filters
    )
    k2, ids = read_kernels(tmp_path / "kernels.h5")
    np.testing.assert_array_equal(k2, kernels)
    assert ids == corr.pair_ids


def test_adjoint_spectra_places_lags_circularly():
    adj = np.zeros((1, 5))
    adj[0, 0] = 1.0  # lag -2
    spec = adjoint_spectra(adj, 16)
    np.testing.assert_allclose(spec[0], np.exp(-2j * np.pi * np.arange(9) * 14 / 16))
