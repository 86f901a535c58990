"""Stacking of the noise branch: methods on known inputs, RTZ rotation, day files."""

import dataclasses

import numpy as np
import pytest
import scipy.signal

import seismake.noise.stack as stack_module
from seismake.noise.ccfstore import write_correlated_day, write_day_correlations
from seismake.noise.correlate import COMPONENTS_3, DayCorrelations
from seismake.noise.params import CorrelationParams, StackParams
from seismake.noise.stack import (
    RTZ_COMPONENTS,
    list_pairs,
    pairs_in_chunk,
    reject_outliers,
    rotate_rtz,
    stack_auto_covariance,
    stack_day_files,
    stack_linear,
    stack_nroot,
    stack_pws,
    stack_robust,
    stack_rows,
    stack_selective,
)
from seismake.noise.stackstore import read_stacks, write_stacks

N_LAG = 401


def wavelet(shift=0.0, n=N_LAG):
    t = np.arange(n) - n // 2 - shift
    return np.exp(-((t / 12.0) ** 2)) * np.cos(2 * np.pi * t / 25.0)


def noisy_rows(n_rows, noise, seed=0, signal=None):
    rng = np.random.default_rng(seed)
    signal = wavelet() if signal is None else signal
    noise_rows = scipy.signal.filtfilt(
        *scipy.signal.butter(4, 0.2), rng.standard_normal((n_rows, signal.size))
    )
    noise_rows /= noise_rows.std()
    return signal + noise * noise_rows


def snr(trace, signal_window=slice(170, 231)):
    off = np.ones(trace.size, dtype=bool)
    off[signal_window] = False
    return np.abs(trace[signal_window]).max() / np.sqrt(np.mean(trace[off] ** 2))


def test_linear_and_nroot_with_one_equals_linear():
    rows = noisy_rows(30, 1.0)
    mask = np.ones(30, dtype=bool)
    mask[[3, 7]] = False
    assert np.allclose(stack_linear(rows, mask), rows[mask].mean(axis=0))
    assert np.allclose(stack_nroot(rows, mask, power=1.0), rows[mask].mean(axis=0))
    two = stack_nroot(rows, mask, power=2.0)
    y = np.mean(np.sign(rows[mask]) * np.sqrt(np.abs(rows[mask])), axis=0)
    assert np.allclose(two, np.sign(y) * y**2)


def test_pws_suppresses_incoherent_noise_more_than_linear():
    rows = noisy_rows(40, 2.0, seed=1)
    mask = np.ones(40, dtype=bool)
    linear = stack_linear(rows, mask)
    pws = stack_pws(rows, mask, power=2.0)
    assert snr(pws) > 2 * snr(linear)
    # a perfectly coherent set of rows has weight 1 everywhere the rows are non-zero
    same = np.tile(wavelet(), (5, 1))
    assert np.allclose(stack_pws(same, np.ones(5, bool)), wavelet(), atol=1e-6)


def test_robust_converges_to_clean_trace_with_outlier_rows():
    clean = wavelet()
    rows = noisy_rows(40, 0.05, seed=2)
    rng = np.random.default_rng(3)
    rows[::5] = 3 * rng.standard_normal((8, N_LAG))  # 8 rows of pure, strong noise
    mask = np.ones(40, dtype=bool)
    robust = stack_robust(rows, mask)
    linear = stack_linear(rows, mask)
    err_robust = np.linalg.norm(robust - clean) / np.linalg.norm(clean)
    err_linear = np.linalg.norm(linear - clean) / np.linalg.norm(clean)
    assert err_robust < 0.1  # the residual noise of 32 rows at 0.05 is ~0.06
    assert err_linear > 1.0
    ideal = rows[np.arange(40) % 5 != 0].mean(axis=0)  # mean of the good rows
    assert np.linalg.norm(robust - ideal) / np.linalg.norm(ideal) < 0.02


def test_selective_drops_anticorrelated_rows():
    clean = wavelet()
    rows = np.stack([clean] * 5 + [-clean] * 2 + [0.5 * clean])
    mask = np.ones(8, dtype=bool)
    assert np.allclose(stack_linear(rows, mask), (5 - 2 + 0.5) / 8 * clean)
    assert np.allclose(stack_selective(rows, mask, threshold=0.0), 5.5 / 6 * clean)


def test_auto_covariance_known_inputs():
    clean = wavelet()
    same = np.tile(clean, (6, 1))
    # identical rows: S1 = N^2 |X|^2, S2 = N |X|^2, so p = 1 and the stack is the row
    assert np.allclose(stack_auto_covariance(same, np.ones(6, bool)), clean, atol=1e-9)
    # independent rows: E[S1] = E[S2], so p ~ 0 and the filter removes them
    pure = noisy_rows(40, 1.0, seed=4, signal=np.zeros(N_LAG))
    mask = np.ones(40, dtype=bool)
    acf = stack_auto_covariance(pure, mask)
    assert np.std(acf) < 0.2 * np.std(stack_linear(pure, mask))
    # a single row is returned unchanged (no covariance to estimate)
    assert np.allclose(stack_auto_covariance(pure[:1], mask[:1]), pure[0], atol=1e-9)


def test_outlier_rows_rejected_as_noisepy():
    rows = noisy_rows(10, 0.1, seed=5)
    rows[4] *= 100.0
    rows[6] = 0.0
    mask = np.ones(10, dtype=bool)
    keep = reject_outliers(rows, mask, 20.0)
    assert keep.tolist() == [True] * 4 + [False, True, False] + [True] * 3
    stacks, nrows = stack_rows(rows, mask, StackParams(stack_method="linear"))
    assert nrows == 8
    assert np.allclose(stacks["linear"], rows[keep].mean(axis=0), atol=1e-6)


def test_methods_vectorized_over_pairs_equal_one_at_a_time():
    rng = np.random.default_rng(6)
    rows = np.stack([noisy_rows(12, s, seed=k) for k, s in enumerate((0.3, 1.0, 2.0))])
    rows = rows.reshape(3, 1, 12, N_LAG)
    mask = rng.random((3, 1, 12)) > 0.25
    for method in ("linear", "pws", "robust", "nroot", "selective", "auto_covariance"):
        p = StackParams(stack_method=method)
        batched, _ = stack_rows(rows, mask, p)
        for k in range(3):
            single, _ = stack_rows(rows[k, 0][mask[k, 0]], np.ones(mask[k, 0].sum(), bool), p)
            assert np.allclose(batched[method][k, 0], single[method], atol=1e-5), method


def radial_correlations(az, baz, signal):
    """ENZ correlations of two stations whose motion is purely radial."""
    a, b = np.radians(az), np.radians(baz)
    # station 1 radial along the azimuth, station 2 radial away from station 1
    h1 = {"E": np.sin(a), "N": np.cos(a), "Z": 0.0}
    h2 = {"E": -np.sin(b), "N": -np.cos(b), "Z": 0.0}
    return np.stack([h1[c1] * h2[c2] * signal for c1, c2 in COMPONENTS_3])


@pytest.mark.parametrize(("az", "baz"), [(30.0, 211.0), (123.0, 300.5), (271.0, 89.0)])
def test_rtz_rotation_of_radial_energy(az, baz):
    signal = wavelet()
    enz = radial_correlations(az, baz, signal)[None]
    rtz = rotate_rtz(enz, np.array([az]), np.array([baz]))[0]
    comp = {c: rtz[k] for k, c in enumerate(RTZ_COMPONENTS)}
    assert np.allclose(comp["RR"], signal, atol=1e-12)
    for name in ("RT", "TR", "TT", "ZR", "ZT", "ZZ", "RZ", "TZ"):
        assert np.abs(comp[name]).max() < 1e-12, name
    # vertical-radial: Z at station 1 against the radial motion at station 2
    zr = np.zeros((1, 9, N_LAG))
    zr[0, COMPONENTS_3.index("ZE")] = -np.sin(np.radians(baz)) * signal
    zr[0, COMPONENTS_3.index("ZN")] = -np.cos(np.radians(baz)) * signal
    out = rotate_rtz(zr, np.array([az]), np.array([baz]))[0]
    assert np.allclose(out[RTZ_COMPONENTS.index("ZR")], signal)
    assert np.abs(out[RTZ_COMPONENTS.index("ZT")]).max() < 1e-12


def make_day(day, stations, value, params, n_sub=2):
    """A synthetic DayCorrelations with all pairs of ``stations``; data = value * pair-code."""
    pairs = [(a, b) for i, a in enumerate(stations) for b in stations[i + 1 :]]
    n_pair = len(pairs)
    n_lag = int(2 * params.maxlag * params.sampling_rate) + 1
    data = np.zeros((n_pair, 9, n_sub, n_lag), dtype=np.float32)
    code = {"SY.A.": 1, "SY.B.": 2, "SY.C.": 4}
    for k, (a, b) in enumerate(pairs):
        for s in range(n_sub):
            data[k, :, s] = value * (code[a] + code[b]) * wavelet(n=n_lag)[None] * (1 + s)
    return DayCorrelations(
        day=day,
        station1=np.array([a for a, _ in pairs]),
        station2=np.array([b for _, b in pairs]),
        channel1=np.array([[f"BH{c[0]}" for c in COMPONENTS_3]] * n_pair),
        channel2=np.array([[f"BH{c[1]}" for c in COMPONENTS_3]] * n_pair),
        coords1=np.tile([34.0, -117.0, 0.0], (n_pair, 1)),
        coords2=np.tile([34.5, -117.0, 0.0], (n_pair, 1)),
        distance_km=np.full(n_pair, 55.6),
        azimuth_deg=np.zeros(n_pair),
        backazimuth_deg=np.full(n_pair, 180.0),
        components=COMPONENTS_3,
        window_start=np.arange(4) * 100.0,
        substack_start=np.arange(n_sub) * 200.0,
        ngood=np.full((n_pair, 9, n_sub), 2, dtype=np.int32),
        lags_s=np.arange(n_lag) / params.sampling_rate - params.maxlag,
        data=data,
        params=params,
    )


def test_stack_day_files_aligns_pairs_across_days(tmp_path):
    params = CorrelationParams(sampling_rate=2.0, maxlag=100.0)
    d1 = make_day("2021-01-01", ["SY.A.", "SY.B.", "SY.C."], 1.0, params)
    d2 = make_day("2021-01-02", ["SY.A.", "SY.B."], 2.0, params)  # station C missing
    d3 = DayCorrelations.empty("2021-01-03", params, "all files corrupt")
    paths = [tmp_path / f"{d.day}.h5" for d in (d1, d2, d3)]
    for path, d in zip(paths, (d1, d2, d3), strict=True):
        write_day_correlations(path, d)
    assert list_pairs(paths) == [("SY.A.", "SY.B."), ("SY.A.", "SY.C."), ("SY.B.", "SY.C.")]
    chunk = [("SY.A.", "SY.C."), ("SY.A.", "SY.B.")]
    result = stack_day_files(paths, StackParams(stack_method="all", rotation=True), chunk)
    assert result.station1.tolist() == ["SY.A.", "SY.A."]
    assert result.station2.tolist() == ["SY.C.", "SY.B."]
    assert result.ndays.tolist() == [1, 2]
    assert result.nrows[:, 0].tolist() == [2, 4]
    w = wavelet(n=401)
    # A-C: day 1 only, rows 5w and 10w; A-B: 3w, 6w (day 1) and 6w, 12w (day 2)
    assert np.allclose(result.stacks["linear"][0, 8], 7.5 * w, atol=1e-5)
    assert np.allclose(result.stacks["linear"][1, 8], 6.75 * w, atol=1e-5)
    assert set(result.stacks) == {"linear", "pws", "robust"}
    assert result.rtz["linear"].shape == (2, 9, 401)
    assert np.allclose(
        result.rtz["linear"][:, RTZ_COMPONENTS.index("ZZ")],
        result.stacks["linear"][:, COMPONENTS_3.index("ZZ")],
    )
    assert result.days == ["2021-01-01", "2021-01-02", "2021-01-03"]
    out = tmp_path / "stack" / "chunk0.h5"
    write_stacks(out, result)
    back = read_stacks(out)
    for method in result.stacks:
        assert np.array_equal(back.stacks[method], result.stacks[method])
        assert np.array_equal(back.rtz[method], result.rtz[method])
    assert back.params == result.params and back.correlation_params == params
    assert np.array_equal(back.nrows, result.nrows) and back.station2.tolist() == ["SY.C.", "SY.B."]
    assert np.array_equal(back.distance_km, result.distance_km)


def test_stack_of_only_empty_days_is_zero(tmp_path):
    params = CorrelationParams(sampling_rate=2.0, maxlag=10.0)
    path = tmp_path / "empty.h5"
    write_day_correlations(path, DayCorrelations.empty("2021-01-03", params, "no data"))
    result = stack_day_files([path], StackParams(), [("SY.A.", "SY.B.")])
    assert result.stacks["linear"].shape == (1, 9, 41)
    assert not result.stacks["linear"].any() and result.ndays.tolist() == [0]


def test_pairs_in_chunk_is_a_stable_partition():
    pairs = [(f"SY.S{a:02d}.", f"SY.S{b:02d}.") for a in range(12) for b in range(a + 1, 12)]
    chunks = [pairs_in_chunk(pairs, c, 4) for c in range(4)]
    assert sorted(p for chunk in chunks for p in chunk) == sorted(pairs)
    assert all(len(chunk) > 0 for chunk in chunks)
    # a pair stays in its chunk when other pairs appear or disappear
    assert pairs_in_chunk(pairs[5:9], 2, 4) == [p for p in chunks[2] if p in pairs[5:9]]
    with pytest.raises(ValueError, match="chunk 4"):
        pairs_in_chunk(pairs, 4, 4)


def test_contiguous_day_files_stack_as_chunked_ones_block_by_block(tmp_path, monkeypatch):
    """Day files written past the page cache (contiguous data, read back the same way)
    stack to what the chunked files give, with blocks of two pairs and broken runs."""
    params = CorrelationParams(sampling_rate=2.0, maxlag=100.0)
    days = [
        make_day("2021-01-01", ["SY.A.", "SY.B.", "SY.C."], 1.0, params, n_sub=3),
        make_day("2021-01-02", ["SY.A.", "SY.C."], 2.0, params),
    ]

    def contiguous(day):
        def correlate(allocate):
            target = allocate(day.data.shape)
            target[:] = day.data
            return dataclasses.replace(day, data=target)

        return correlate

    chunked, direct = [], []
    for d in days:
        chunked.append(tmp_path / f"chunked-{d.day}.h5")
        write_day_correlations(chunked[-1], d)
        direct.append(tmp_path / f"direct-{d.day}.h5")
        write_correlated_day(direct[-1], contiguous(d))
    chunk = [("SY.B.", "SY.C."), ("SY.A.", "SY.B."), ("SY.A.", "SY.C.")]
    stack_params = StackParams(stack_method="all")
    reference = stack_day_files(chunked, stack_params, chunk)
    per_pair = 9 * 5 * 401 * 8 * 4
    monkeypatch.setattr(stack_module, "MEMORY_BYTES", 2 * per_pair)
    result = stack_day_files(direct, stack_params, chunk)
    assert result.nrows[:, 0].tolist() == [3, 3, 5]
    for method in reference.stacks:
        np.testing.assert_array_equal(result.stacks[method], reference.stacks[method])
    # B-C on day 1: rows (2+4) w * 1, 2, 3
    np.testing.assert_allclose(result.stacks["linear"][0, 8], 12.0 * wavelet(n=401), atol=1e-5)
