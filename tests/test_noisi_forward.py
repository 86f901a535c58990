"""Forward model of the noisi branch: correlations against the analytic Green's-function
product, against a per-grid-point loop, symmetries, output formats, figures."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from seismake.geodesy import geodesic_inverse
from seismake.noisi.forward import (
    ModelMismatchError,
    add_gaussian_noise,
    correlate,
    correlation_traces,
    read_correlations_h5,
    stack_greens,
    station_pairs,
    write_correlations_h5,
)
from seismake.noisi.greens import analytic_surface_wave_spectrum, analytic_wavefield
from seismake.noisi.grid import make_grid
from seismake.noisi.sacio import read_correlation_sac, write_correlation_sac
from seismake.noisi.sources import SourceDistribution, make_source_model
from seismake.plot.noisi import (
    plot_kernel,
    plot_misfit_history,
    plot_source_maps,
    plot_waveform_fits,
)

V, Q, RHO = 3000.0, 100.0, 3000.0
FS, NT = 1.0, 300
MEAN, STD = 0.05, 0.02
STATIONS = [(0.3, -0.5), (-0.2, 0.6), (0.5, 0.4)]


@pytest.fixture(scope="module")
def grid():
    return make_grid(-2.0, 2.0, -2.0, 2.0, 50e3)


def _greens(grid, fdomain, quantity="VEL"):
    wfs = [
        analytic_wavefield(
            grid,
            lat,
            lon,
            f"XX.S{i}..MXZ",
            FS,
            NT,
            V,
            Q,
            RHO,
            data_quantity=quantity,
            fdomain=fdomain,
        )
        for i, (lat, lon) in enumerate(STATIONS)
    ]
    return stack_greens(wfs)


def _point_source_model(grid, greens, k):
    model = make_source_model(
        grid, greens.frequencies_hz, [SourceDistribution("homogeneous", 0.0, MEAN, STD)]
    )
    weights = np.zeros_like(model.model)
    weights[k, 0] = 1.0
    return model.with_model(weights)


def _analytic_correlation(grid, k, lags):
    """c(tau) = 2 Re int_0^inf conj(G1) G2 S A exp(2 pi i f tau) df, by dense quadrature."""
    (la1, lo1), (la2, lo2) = STATIONS[0], STATIONS[1]
    r1 = geodesic_inverse(la1, lo1, grid.lat[k], grid.lon[k])[0]
    r2 = geodesic_inverse(la2, lo2, grid.lat[k], grid.lon[k])[0]
    f = np.linspace(1e-7, 0.5, 100001)
    g1 = analytic_surface_wave_spectrum(f, np.array([r1]), V, Q, RHO, "VEL")[0]
    g2 = analytic_surface_wave_spectrum(f, np.array([r2]), V, Q, RHO, "VEL")[0]
    spec = np.conj(g1) * g2 * np.exp(-((f - MEAN) ** 2) / (2 * STD**2)) * grid.surface_areas_m2[k]
    c = np.array([2.0 * np.trapezoid((spec * np.exp(2j * np.pi * f * t)).real, f) for t in lags])
    return c, (r2 - r1) / V


@pytest.mark.parametrize("fdomain, rtol", [(True, 1e-4), (False, 1e-2)])
def test_point_source_correlation_equals_analytic_greens_product(grid, fdomain, rtol):
    greens = _greens(grid, fdomain)
    k = int(np.argmin((grid.lon - 1.2) ** 2 + (grid.lat + 0.9) ** 2))
    model = _point_source_model(grid, greens, k)
    corr = correlate(greens, model, station_pairs(2), 150.0)
    expected, delay = _analytic_correlation(grid, k, corr.lags_s)
    modelled = corr.data[0]
    peak = np.max(np.abs(expected))
    np.testing.assert_allclose(modelled, expected, atol=rtol * peak)
    # lag: a zero-phase wavelet delayed by (r2 - r1) / v; amplitude: the analytic peak
    assert abs(corr.lags_s[np.argmax(modelled)] - delay) <= 0.5 / FS
    assert modelled.max() == pytest.approx(expected.max(), rel=rtol)


def test_vectorized_sum_equals_per_grid_point_loop(grid):
    greens = _greens(grid, fdomain=False, quantity="DIS")
    rng = np.random.default_rng(5)
    model = make_source_model(
        grid,
        greens.frequencies_hz,
        [
            SourceDistribution("homogeneous", 1.0, 0.05, 0.02),
            SourceDistribution("homogeneous", 1.0, 0.1, 0.03),
        ],
    )
    model = model.with_model(rng.uniform(0, 1, model.model.shape))
    pairs = station_pairs(3, autocorrelations=True)
    corr = correlate(greens, model, pairs, 100.0)
    # reference: noisi's loop, one grid point at a time in the time domain
    n_fft, dt, n_half = greens.n_fft, 1.0 / FS, 100
    expected = np.zeros_like(corr.data)
    psd = model.psd()
    for p, (i, j) in enumerate(pairs):
        for kk in range(grid.size):
            prod = np.conj(greens.spectra[i, kk]) * greens.spectra[j, kk] * psd[kk]
            trace = np.fft.irfft(prod, n=n_fft) / dt * model.surface_areas_m2[kk]
            expected[p] += np.concatenate([trace[-n_half:], trace[: n_half + 1]])
    np.testing.assert_allclose(corr.data, expected, rtol=1e-9, atol=1e-12 * np.abs(expected).max())


def test_correlation_symmetries(grid):
    greens = _greens(grid, fdomain=True, quantity="DIS")
    model = make_source_model(
        grid, greens.frequencies_hz, [SourceDistribution("homogeneous", 1.0, MEAN, STD)]
    )
    corr = correlate(greens, model, np.array([[0, 1], [1, 0], [2, 2]]), 120.0)
    np.testing.assert_allclose(
        corr.data[1], corr.data[0][::-1], rtol=1e-10, atol=1e-12 * np.abs(corr.data[0]).max()
    )
    auto = corr.data[2]
    np.testing.assert_allclose(auto, auto[::-1], atol=1e-12 * auto.max())
    assert np.argmax(auto) == auto.size // 2
    assert corr.pair_ids[1] == ("XX.S1..MXZ", "XX.S0..MXZ")


def test_station_pairs():
    np.testing.assert_array_equal(station_pairs(3), [[0, 1], [0, 2], [1, 2]])
    assert len(station_pairs(4, autocorrelations=True)) == 10


def test_mismatched_inputs_are_rejected(grid):
    greens = _greens(grid, fdomain=True)
    model = make_source_model(grid, np.fft.rfftfreq(64, d=1.0), [SourceDistribution("homogeneous")])
    with pytest.raises(ModelMismatchError, match="frequencies"):
        correlate(greens, model, station_pairs(2), 50.0)
    good = make_source_model(grid, greens.frequencies_hz, [SourceDistribution("homogeneous")])
    with pytest.raises(ValueError, match="max lag"):
        correlate(greens, good, station_pairs(2), 10 * NT / FS)
    other = analytic_wavefield(make_grid(-1, 1, -1, 1, 50e3), 0, 0, "XX.Z..MXZ", FS, NT, V, Q, RHO)
    with pytest.raises(ModelMismatchError, match=r"XX\.Z\.\.MXZ: source grid differs"):
        stack_greens([analytic_wavefield(grid, 0, 0, "XX.Y..MXZ", FS, NT, V, Q, RHO), other])


def test_correlation_outputs_roundtrip(tmp_path, grid):
    greens = _greens(grid, fdomain=True)
    model = make_source_model(
        grid, greens.frequencies_hz, [SourceDistribution("homogeneous", 1.0, MEAN, STD)]
    )
    corr = correlate(greens, model, station_pairs(3), 100.0)
    write_correlations_h5(tmp_path / "correlations.h5", corr)
    back = read_correlations_h5(tmp_path / "correlations.h5")
    np.testing.assert_array_equal(back.data, corr.data)
    assert back.pair_ids == corr.pair_ids
    coords = {f"XX.S{i}..MXZ": s for i, s in enumerate(STATIONS)}
    traces = correlation_traces(corr, coords)
    write_correlation_sac(tmp_path / "c.sac", traces[1])
    sac = read_correlation_sac(tmp_path / "c.sac", observed=False)
    scale = np.abs(corr.data[1]).max()
    np.testing.assert_allclose(sac.data, corr.data[1], atol=1e-6 * scale)
    np.testing.assert_allclose(sac.lags_s, corr.lags_s, atol=1e-4)
    assert (sac.station1, sac.station2) == corr.pair_ids[1]
    assert sac.dist_m == pytest.approx(geodesic_inverse(*STATIONS[0], *STATIONS[2])[0], rel=1e-6)


def test_gaussian_noise_level():
    rng = np.random.default_rng(0)
    data = np.vstack([np.sin(np.linspace(0, 50, 20001)), 3 * np.cos(np.linspace(0, 40, 20001))])
    noisy = add_gaussian_noise(data, 0.05, rng)
    mean_rms = np.mean(np.sqrt(np.mean(data**2, axis=1)))
    assert np.std(noisy - data) == pytest.approx(0.05 * mean_rms, rel=0.02)


def test_figures(tmp_path, grid):
    values = np.exp(-(grid.lon**2 + grid.lat**2))
    fig = plot_source_maps(
        grid.lon, grid.lat, {"target": values, "start": values * 0 + 1}, [(0.0, 0.0)], [(1, 1)]
    )
    assert isinstance(fig, Figure) and len(fig.axes) == 4  # two maps, two colour bars
    assert fig.axes[0].get_title().startswith("target [")
    fig.savefig(tmp_path / "maps.png")
    assert (tmp_path / "maps.png").stat().st_size > 0
    kern = plot_kernel(grid.lon, grid.lat, values - 0.5, (0, 0), (1, 1), "pair")
    lo, hi = kern.axes[0].collections[0].get_clim()
    assert lo == pytest.approx(-hi)
    lags = np.linspace(-10, 10, 21)
    fits = plot_waveform_fits(lags, np.zeros((2, 21)), {"model": np.ones((2, 21))}, ["a", "b"])
    assert len(fits.axes) == 2 and fits.axes[1].get_ylabel() == "b"
    hist = plot_misfit_history({"waveform": [4.0, 2.0, 1.0]})
    np.testing.assert_allclose(hist.axes[0].lines[0].get_ydata(), [1.0, 0.5, 0.25])
