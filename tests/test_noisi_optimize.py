"""Gradient smoothing, explicit-state projected L-BFGS, trial-step line search, and a small
synthetic source inversion."""

import numpy as np
import pytest
from scipy.optimize import minimize

from seismake.noisi.forward import add_gaussian_noise, correlate, stack_greens, station_pairs
from seismake.noisi.greens import analytic_wavefield
from seismake.noisi.grid import make_grid
from seismake.noisi.measure import MeasurementConfig, pair_distances
from seismake.noisi.optimize import (
    InversionProblem,
    InversionStage,
    LBFGSState,
    choose_step,
    converged,
    invert,
    prepare_step,
    read_gradient,
    read_state,
    smooth_on_sphere,
    step_model,
    trial_steps,
    two_loop,
    write_gradient,
    write_state,
)
from seismake.noisi.sources import SourceDistribution, make_source_model


def _quadratic(n=12, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, n))
    hessian = a @ a.T + n * np.eye(n)
    b = rng.normal(size=n) * n
    return hessian, b


def test_two_loop_equals_dense_bfgs_inverse_hessian():
    rng = np.random.default_rng(1)
    n, m = 8, 4
    hessian, _ = _quadratic(n)
    s = rng.normal(size=(m, n))
    y = s @ hessian  # exact curvature pairs, s.y > 0
    gamma = (s[-1] @ y[-1]) / (y[-1] @ y[-1])
    h = gamma * np.eye(n)
    for si, yi in zip(s, y, strict=True):
        rho = 1.0 / (yi @ si)
        v = np.eye(n) - rho * np.outer(yi, si)
        h = v.T @ h @ v + rho * np.outer(si, si)
    g = rng.normal(size=n)
    np.testing.assert_allclose(two_loop(g, s, y), h @ g, rtol=1e-10)


def _run_lbfgs(hessian, b, iterations, tmp_path=None):
    """Projected L-BFGS on J = 1/2 x'Hx - b'x, x >= 0, with exact line minimisation by
    choose_step; with tmp_path the state goes through HDF5 before every direction."""
    x = np.ones(b.size)
    state = LBFGSState(memory=4)
    directions = []
    for it in range(iterations):
        g = hessian @ x - b
        misfit = 0.5 * x @ hessian @ x - b @ x
        if tmp_path is not None:
            write_state(tmp_path / f"state_{it}.h5", state)
            state = read_state(tmp_path / f"state_{it}.h5")
        state = prepare_step(state, x, g, misfit)
        directions.append(state.direction.copy())
        alphas = trial_steps(state)
        trials = [0.5 * xt @ hessian @ xt - b @ xt for xt in (step_model(state, a) for a in alphas)]
        choice = choose_step(alphas, trials, misfit)
        if not choice.decreased:
            break
        x = step_model(state, choice.alpha)
        assert np.all(x >= 0)
    return x, directions


def test_serialised_history_gives_the_same_steps(tmp_path):
    hessian, b = _quadratic()
    x_mem, d_mem = _run_lbfgs(hessian, b, 8)
    x_file, d_file = _run_lbfgs(hessian, b, 8, tmp_path)
    assert len(d_mem) == len(d_file) >= 6
    for a, c in zip(d_mem, d_file, strict=True):
        np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(x_mem, x_file)
    state = read_state(tmp_path / "state_5.h5")
    assert state.n_history == 4 and state.memory == 4
    write_gradient(tmp_path / "gradient.h5", hessian[:3], hessian[3:6])
    smoothed, raw = read_gradient(tmp_path / "gradient.h5")
    np.testing.assert_array_equal(smoothed, hessian[:3])
    np.testing.assert_array_equal(raw, hessian[3:6])


def test_projected_lbfgs_matches_scipy_lbfgsb():
    hessian, b = _quadratic(seed=3)
    x, _ = _run_lbfgs(hessian, b, 60)
    reference = minimize(
        lambda z: (0.5 * z @ hessian @ z - b @ z, hessian @ z - b),
        np.ones(b.size),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0, None)] * b.size,
        options={"ftol": 1e-15, "gtol": 1e-12},
    ).x
    assert np.any(reference == 0) and np.any(reference > 0)  # the bound is active
    np.testing.assert_allclose(x, reference, atol=1e-6 * np.abs(reference).max())


def test_choose_step_quadratic_fit_and_safeguards():
    def parabola(a):
        return (a - 1.3) ** 2 + 2.0

    alphas = np.array([0.5, 1.0, 2.0])
    choice = choose_step(alphas, parabola(alphas), parabola(0.0))
    assert choice.method == "parabola" and choice.alpha == pytest.approx(1.3)
    assert choice.predicted_misfit == pytest.approx(2.0)
    # units of misfit and step length do not matter (kernels of real data are tiny)
    scaled = choose_step(1e27 * alphas, 1e-28 * parabola(alphas), 1e-28 * parabola(0.0))
    assert scaled.alpha == pytest.approx(1.3e27) and scaled.predicted_misfit == pytest.approx(2e-28)
    # minimum beyond the trials: extrapolation limited to twice the largest trial
    far = choose_step(alphas, (alphas - 10) ** 2, 100.0)
    assert far.alpha == pytest.approx(4.0)
    # minimum below the smallest trial, every trial worse than the current model
    near = choose_step(alphas, (alphas - 0.1) ** 2, 0.01)
    assert near.method == "parabola_below_trials" and near.alpha == pytest.approx(0.1)
    # non-convex: the best trial
    concave = choose_step(alphas, [1.0, 0.5, 0.9], 1.2)
    assert concave.method in ("best_trial", "parabola") and 0.5 <= concave.alpha <= 2.0
    assert choose_step(alphas, [2.0, 3.0, 4.0], 1.0).decreased is False


def test_converged():
    assert not converged([10.0], 1e-3)
    assert not converged([10.0, 9.0], 1e-3)
    assert converged([10.0, 9.0, 8.9999], 1e-3)


def test_smoothing_on_the_sphere():
    grid = make_grid(-4, 4, -4, 4, 30e3)
    const = np.full(grid.size, 3.0)
    np.testing.assert_allclose(smooth_on_sphere(const, grid.lon, grid.lat, 100e3), 3.0)
    spike = np.zeros(grid.size)
    centre = int(np.argmin(grid.lon**2 + grid.lat**2))
    spike[centre] = 1.0
    length = 100e3
    smooth = smooth_on_sphere(spike, grid.lon, grid.lat, length, grid.surface_areas_m2)
    assert np.argmax(smooth) == centre
    # the smoothed spike falls off as exp(-d^2 / (2 L^2))
    row = np.flatnonzero(np.isclose(grid.lat, grid.lat[centre]))
    k = row[np.argmin(np.abs(grid.lon[row] - 0.9))]
    from seismake.noisi.grid import great_circle_m

    d = great_circle_m(grid.lat[centre], grid.lon[centre], grid.lat[k], grid.lon[k])
    assert smooth[k] / smooth[centre] == pytest.approx(np.exp(-0.5 * (d / length) ** 2), rel=0.02)
    both = smooth_on_sphere(np.column_stack([spike, const]), grid.lon, grid.lat, length)
    assert both.shape == (grid.size, 2)
    assert np.array_equal(smooth_on_sphere(spike, grid.lon, grid.lat, 0.0), spike)


def test_synthetic_inversion_recovers_the_target():
    """Paper section 5.2 in small: weak background in the western half, three strong
    Gaussian blobs outside the array, 5 % noise, waveform misfit."""
    grid = make_grid(-4.0, 4.0, -4.0, 4.0, 50e3)
    angle = np.linspace(0, 2 * np.pi, 7)[:-1]
    stations = np.vstack([np.column_stack([np.sin(angle), np.cos(angle)]), [0.0, 0.0]])
    wavefields = [
        analytic_wavefield(grid, lat, lon, f"XX.S{i}..MXZ", 0.5, 128, 3000.0, 100.0, 3000.0)
        for i, (lat, lon) in enumerate(stations)
    ]
    greens = stack_greens(wavefields)
    blobs = [(-2.5, -2.5), (2.5, 1.5), (-1.0, 3.0)]
    target = make_source_model(
        grid,
        greens.frequencies_hz,
        [SourceDistribution("homogeneous", 0.1, 0.05, 0.02, lon_range=(-10.0, 0.0))]
        + [
            SourceDistribution(
                "gaussian_blob", 1.0, 0.05, 0.02, center_lon=lo, center_lat=la, sigma_m=50e3
            )
            for lo, la in blobs
        ],
    )
    start = make_source_model(
        grid, greens.frequencies_hz, [SourceDistribution("homogeneous", 0.1, 0.05, 0.02)]
    )
    pairs = station_pairs(len(stations))
    clean = correlate(greens, target, pairs, 150.0).data
    observed = add_gaussian_noise(clean, 0.05, np.random.default_rng(0))
    problem = InversionProblem(
        greens, observed, pairs, pair_distances(stations[:, 0], stations[:, 1], pairs), 150.0
    )
    config = MeasurementConfig("full_waveform", filters=[(0.02, 0.06)])
    result = invert(problem, start, [InversionStage(config, smoothing_m=60e3, max_iterations=25)])
    misfits = result.misfits[0]
    assert misfits[-1] <= 0.1 * misfits[0]
    assert np.all(np.diff(misfits) < 0)
    assert np.all(result.model.model >= 0)
    assert np.corrcoef(result.model.model[:, 0], target.model[:, 0])[0, 1] >= 0.7
    assert result.iterations == len(misfits) - 1
