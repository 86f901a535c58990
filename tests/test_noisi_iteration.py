"""The inversion as separate steps (seismake.noisi.iteration): the steps chained through
their files reproduce the in-memory inversion; schedule, convergence and no-decrease
policies; observed stacks on the model's lag axis; the truth model on the grid."""

import numpy as np
import pytest

from seismake.noisi.forward import correlate, stack_greens, station_pairs
from seismake.noisi.greens import analytic_wavefield
from seismake.noisi.grid import make_grid
from seismake.noisi.iteration import (
    IterationStatus,
    MisfitRecord,
    Stage,
    first_status,
    load_problem,
    measure_iteration,
    measurement_config,
    read_misfit_record,
    read_status,
    read_trials,
    search_direction,
    stage_of,
    trial_misfit,
    update_iteration,
    write_misfit_record,
    write_status,
    write_trial,
)
from seismake.noisi.kernels import compute_kernels
from seismake.noisi.observed import (
    correlation_set_traces,
    read_correlation_directory,
    read_stack_directories,
    receivers_from_traces,
    resample_traces,
    select_component,
    write_correlation_directory,
)
from seismake.noisi.optimize import (
    InversionStage,
    LBFGSState,
    invert,
    read_state,
    trial_steps,
    write_state,
)
from seismake.noisi.report import choose_pairs, misfit_history
from seismake.noisi.sacio import CorrelationTrace
from seismake.noisi.sources import (
    SourceDistribution,
    make_source_model,
    model_from_points,
    read_source_model,
    write_source_model,
)
from seismake.noisi.stations import Receiver, Station, read_receivers, write_receivers

MEASUREMENT = {"kind": "full_waveform", "group_speed_mps": 3000.0, "half_width_s": 20.0}
STAGES = [
    Stage([(0.02, 0.06)], 80e3, 2),
    Stage([(0.02, 0.06), (0.04, 0.1)], 40e3, 2),
]
FACTORS = (0.5, 1.0, 2.0)


@pytest.fixture(scope="module")
def problem_setup():
    grid = make_grid(-3.0, 3.0, -3.0, 3.0, 60e3)
    angle = np.linspace(0, 2 * np.pi, 6)[:-1]
    coords = np.column_stack([0.8 * np.sin(angle), 0.8 * np.cos(angle)])
    receivers = [
        Receiver(Station("XX", f"S{i}", lat, lon), "MXZ") for i, (lat, lon) in enumerate(coords)
    ]
    wavefields = [
        analytic_wavefield(grid, lat, lon, r.seed_id, 0.5, 128, 3000.0, 100.0, 3000.0)
        for r, (lat, lon) in zip(receivers, coords, strict=True)
    ]
    greens = stack_greens(wavefields)
    target = make_source_model(
        grid,
        greens.frequencies_hz,
        [
            SourceDistribution("homogeneous", 0.1, 0.05, 0.02, lon_range=(-10.0, 0.0)),
            SourceDistribution(
                "gaussian_blob", 1.0, 0.05, 0.02, center_lon=2.0, center_lat=1.0, sigma_m=60e3
            ),
        ],
    )
    start = make_source_model(
        grid, greens.frequencies_hz, [SourceDistribution("homogeneous", 0.1, 0.05, 0.02)]
    )
    corr = correlate(greens, target, station_pairs(len(receivers)), 100.0)
    traces = correlation_set_traces(corr, receivers)
    problem = load_problem(wavefields, receivers, traces, 100.0)
    return problem, receivers, traces, start, target


def test_stage_of_follows_the_schedule():
    assert [stage_of(i, [2, 3]) for i in range(8)] == [0, 0, 1, 1, 1, 1, 1, 1]
    assert stage_of(0, [1]) == 0 and stage_of(5, [1]) == 0
    with pytest.raises(ValueError):
        stage_of(-1, [2])


def test_steps_through_files_reproduce_the_in_memory_inversion(tmp_path, problem_setup):
    """Every job's work, chained through the files the workflow writes, gives the model of
    seismake.noisi.optimize.invert with the same schedule."""
    problem, receivers, traces, start, _ = problem_setup
    reference = invert(
        problem,
        start,
        [
            InversionStage(measurement_config(MEASUREMENT, s), s.smoothing_m, s.iterations)
            for s in STAGES
        ],
        trial_factors=FACTORS,
        min_improvement=0.0,
    )
    counts = [s.iterations for s in STAGES]
    model, status = start, first_status()
    state_path = None
    for i in range(sum(counts)):
        d = tmp_path / str(i)
        d.mkdir()
        write_source_model(d / "model.h5", model)
        write_status(d / "status.json", status)
        model, status = read_source_model(d / "model.h5"), read_status(d / "status.json")
        stage = STAGES[stage_of(i, counts)]
        config = measurement_config(MEASUREMENT, stage)
        corr = correlate(problem.greens, model, problem.pairs, problem.max_lag_s)
        previous = None
        if i > 0 and stage_of(i - 1, counts) == status.stage:
            previous = read_misfit_record(tmp_path / str(i - 1) / "misfit.json")
        measurement, record = measure_iteration(
            corr, traces, receivers, config, status, previous, min_improvement=0.0
        )
        write_misfit_record(d / "misfit.json", record)
        kernels = compute_kernels(
            problem.greens, model.spectral_basis, measurement.adjoint, problem.pairs
        )
        prev_state = read_state(state_path) if previous is not None else None
        _, _, state = search_direction(
            kernels,
            model,
            read_misfit_record(d / "misfit.json"),
            status,
            prev_state,
            stage.smoothing_m,
        )
        state_path = d / "lbfgs.h5"
        write_state(state_path, state)
        state = read_state(state_path)
        for k, alpha in enumerate(trial_steps(state, FACTORS)):
            write_trial(
                d / f"trial{k}.json",
                i,
                k,
                float(alpha),
                trial_misfit(problem, model, state, alpha, config),
            )
        trials = read_trials([d / f"trial{k}.json" for k in range(len(FACTORS))])
        model, status = update_iteration(
            status, model, stage_of(i + 1, counts), 3, record, state, trials, problem, config
        )
        assert status.active and "misfit_after" in status.step, status.note
    np.testing.assert_allclose(model.model, reference.model.model, rtol=1e-9, atol=1e-12)
    assert reference.iterations == sum(counts)
    assert np.all(model.model >= 0)


def _status(**kw):
    values = dict(iteration=4, stage=0, active=True, restart=False)
    return IterationStatus(**{**values, **kw})


def _record(total=1.0, improvement=0.5, converged=False):
    return MisfitRecord(4, 0, "full_waveform", total, [total], 3, improvement, converged)


def test_no_decrease_restarts_then_shrinks_then_stops(problem_setup):
    problem, _, _, start, _ = problem_setup
    config = measurement_config(MEASUREMENT, STAGES[0])
    worse = [(0.5, 2.0), (1.0, 3.0), (2.0, 4.0)]  # every trial above the misfit 1.0
    n = start.model.size
    x = start.model.ravel()
    with_history = LBFGSState(s=np.ones((1, n)), y=np.ones((1, n)), x=x, g=x, direction=-x)
    without = LBFGSState(s=np.zeros((0, n)), y=np.zeros((0, n)), x=x, g=x, direction=-x)
    args = (problem, config)

    model, nxt = update_iteration(_status(), start, 0, 2, _record(), with_history, worse, *args)
    assert model is start and nxt.active and nxt.restart and nxt.step_scale == 1.0
    assert "steepest descent" in nxt.note

    _, nxt = update_iteration(nxt, start, 0, 2, _record(), without, worse, *args)
    assert nxt.restart and nxt.shrinks == 1 and nxt.step_scale == pytest.approx(0.1)
    _, nxt = update_iteration(nxt, start, 0, 2, _record(), without, worse, *args)
    assert nxt.shrinks == 2 and nxt.step_scale == pytest.approx(0.01)
    _, stopped = update_iteration(nxt, start, 0, 2, _record(), without, worse, *args)
    assert not stopped.active and "no decrease after 2 shrinks" in stopped.stopped

    # a stopped stage copies its model, saying so, until the next stage starts afresh
    model, copy = update_iteration(stopped, start, 0, 2)
    assert model is start and not copy.active and copy.note.endswith("model copied")
    assert copy.iteration == stopped.iteration + 1
    _, fresh = update_iteration(copy, start, 1, 2)
    assert fresh.active and fresh.restart and fresh.stage == 1 and fresh.step_scale == 1.0


def test_convergence_stops_the_stage(tmp_path, problem_setup):
    problem, receivers, traces, start, _ = problem_setup
    config = measurement_config(MEASUREMENT, STAGES[0])
    corr = correlate(problem.greens, start, problem.pairs, problem.max_lag_s)
    status = _status(iteration=3)
    _, record = measure_iteration(corr, traces, receivers, config, status, None, 1e-3)
    assert record.improvement is None and not record.converged
    previous = _record(total=record.total * (1 + 1e-4), improvement=None)
    _, record = measure_iteration(corr, traces, receivers, config, status, previous, 1e-3)
    assert record.improvement == pytest.approx(1e-4 / (1 + 1e-4)) and record.converged
    # after a restart the model is unchanged: no convergence test
    restart = _status(iteration=3, restart=True)
    _, record_r = measure_iteration(corr, traces, receivers, config, restart, previous, 1e-3)
    assert record_r.improvement is None and not record_r.converged
    write_misfit_record(tmp_path / "m.json", record)
    assert read_misfit_record(tmp_path / "m.json") == record
    _, nxt = update_iteration(status, start, 0, 3, record)
    assert not nxt.active and "relative misfit improvement" in nxt.note


def _band_limited(t):
    """A correlation-like signal with energy below 0.2 Hz only."""
    return np.exp(-(((t - 30.0) / 25.0) ** 2)) * np.cos(2 * np.pi * 0.07 * t) + 0.5 * np.exp(
        -(((t + 50.0) / 30.0) ** 2)
    ) * np.sin(2 * np.pi * 0.05 * t)


def _trace(
    station1, station2, lat1=0.0, lon1=0.0, lat2=0.5, lon2=0.5, fs=10.0, n_stacked=4.0, max_lag=200
):
    lags = np.arange(-max_lag * fs, max_lag * fs + 1) / fs
    return CorrelationTrace(
        data=_band_limited(lags) * n_stacked,
        delta_s=1.0 / fs,
        begin_s=float(lags[0]),
        station1=station1,
        station2=station2,
        lat1=lat1,
        lon1=lon1,
        lat2=lat2,
        lon2=lon2,
        n_stacked=n_stacked,
    )


def test_stacks_are_resampled_selected_and_give_the_receivers(tmp_path):
    traces = [
        _trace("SY.A..BHZ", "SY.B..BHZ"),
        _trace("SY.A..BHN", "SY.B..BHN"),
        _trace("SY.A..BHZ", "SY.A..BHZ", lat2=0.0, lon2=0.0),
        _trace("SY.B..BHZ", "SY.C.00.HHZ", 0.5, 0.5, 1.0, -1.0, fs=20.0),
    ]
    write_correlation_directory(tmp_path, traces)
    read = read_correlation_directory(tmp_path)  # divided by user0
    (tmp_path / "empty").mkdir()
    stacks = read_stack_directories([tmp_path / "empty", tmp_path])
    assert [t.station1 for t in stacks] == [t.station1 for t in read]
    assert read_stack_directories([tmp_path / "empty"]) == []
    zz = select_component(read, "Z")
    assert sorted((t.station1, t.station2) for t in zz) == [
        ("SY.A..BHZ", "SY.B..BHZ"),
        ("SY.B..BHZ", "SY.C.00.HHZ"),
    ]
    assert len(select_component(read, "Z", autocorrelations=True)) == 3
    receivers = receivers_from_traces(zz)
    assert [r.seed_id for r in receivers] == ["SY.A..BHZ", "SY.B..BHZ", "SY.C.00.HHZ"]
    assert receivers[2].station.latitude == pytest.approx(1.0)
    write_receivers(tmp_path / "stations.csv", receivers)
    assert read_receivers(tmp_path / "stations.csv") == receivers

    resampled = resample_traces(zz, 1.0, 150.0)
    lags = np.arange(-150, 151, dtype=float)
    for tr in resampled:
        assert tr.delta_s == 1.0 and tr.begin_s == -150.0 and tr.data.size == lags.size
        # written with the stack count, so that reading divides it out again
        np.testing.assert_allclose(tr.data / tr.n_stacked, _band_limited(lags), atol=2e-4)
    (tmp_path / "out").mkdir()
    write_correlation_directory(tmp_path / "out", resampled)
    again = read_correlation_directory(tmp_path / "out")
    np.testing.assert_allclose(again[0].data, _band_limited(lags), atol=2e-4)

    moved = _trace("SY.A..BHZ", "SY.C.00.HHZ", lat2=1.1, lon2=-1.0)
    with pytest.raises(ValueError, match=r"SY\.C\.00\.HHZ at \(1\.1"):
        receivers_from_traces([*zz, moved])
    short = _trace("SY.A..BHZ", "SY.B..BHZ", max_lag=100)
    with pytest.raises(ValueError, match=r"SY\.A\.\.BHZ--SY\.B\.\.BHZ: lags .* do not cover"):
        resample_traces([short], 1.0, 150.0)


def test_truth_points_are_interpolated_to_the_grid():
    grid = make_grid(-2.0, 2.0, -2.0, 2.0, 50e3)
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(-1.5, 1.5, 400), rng.uniform(-1.5, 1.5, 400)
    lon = np.concatenate([lon, [-1.5, 1.5, -1.5, 1.5]])
    lat = np.concatenate([lat, [-1.5, -1.5, 1.5, 1.5]])
    weights = 2.0 + 0.5 * lon - 0.25 * lat  # linear: exact inside the hull
    model = model_from_points(grid, np.linspace(0, 0.5, 11), lon, lat, weights, 0.2, 0.1)
    inside = (np.abs(grid.lon) < 1.4) & (np.abs(grid.lat) < 1.4)
    np.testing.assert_allclose(
        model.model[inside, 0], 2.0 + 0.5 * grid.lon[inside] - 0.25 * grid.lat[inside], rtol=1e-9
    )
    outside = (np.abs(grid.lon) > 1.6) | (np.abs(grid.lat) > 1.6)
    nearest = np.argmin(
        (grid.lon[outside, None] - lon) ** 2 + (grid.lat[outside, None] - lat) ** 2, axis=1
    )
    np.testing.assert_array_equal(model.model[outside, 0], weights[nearest])
    assert model.spectral_basis.shape == (1, 11)


def test_chosen_pairs_span_the_distances():
    dist = np.array([5.0, 1.0, 9.0, 3.0, 7.0])
    assert list(choose_pairs(dist, None, 2)) == [1, 2]
    assert list(choose_pairs(dist, None, 3)) == [1, 0, 2]
    available = np.array([True, False, True, True, False])
    assert list(choose_pairs(dist, available, 5)) == [3, 0, 2]


def test_misfit_history_per_stage():
    """Stage 1 runs iterations 0-1 and its last update makes model 2 (misfit from the line
    search); stage 2 measures 2 and 3; model 4 comes from its last update."""
    records = {
        i: MisfitRecord(i, stage, "full_waveform", total, [total], 3, None, False)
        for i, stage, total in [(0, 0, 10.0), (1, 0, 5.0), (2, 1, 8.0), (3, 1, 6.0)]
    }
    statuses = [_status(iteration=0, note="starting model")]
    for i, after in [(1, 5.0), (2, 4.0), (3, 6.0), (4, 5.5)]:
        statuses.append(_status(iteration=i, step={"misfit_after": after}))
    history = misfit_history(statuses, records)
    assert history == {0: [(0, 10.0), (1, 5.0), (2, 4.0)], 1: [(2, 8.0), (3, 6.0), (4, 5.5)]}


def test_no_observations_end_the_inversion(problem_setup):
    _, _, _, start, _ = problem_setup
    status = first_status(n_receivers=0)
    assert not status.active and status.ended and "no observed correlations" in status.note
    for next_stage in (0, 1):  # not even a new stage restarts it
        model, status = update_iteration(status, start, next_stage)
        assert model is start and not status.active and status.note.endswith("model copied")
    assert first_status(n_receivers=3).active
