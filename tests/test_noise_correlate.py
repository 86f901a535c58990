"""Cross-correlation of the noise branch: methods, normalizations, batching, day files."""

from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.fft
from obspy import Inventory, Stream, Trace, UTCDateTime
from obspy.core.inventory import Channel, Network, Station
from obspy.geodetics import gps2dist_azimuth

import seismake.noise.correlate as correlate_module
from seismake.noise.ccfstore import (
    CorrelationFileError,
    read_day_correlations,
    write_correlated_day,
    write_day_correlations,
)
from seismake.noise.correlate import (
    COMPONENTS_3,
    DayCorrelations,
    correlate_streams,
    correlate_windows,
    fft_length,
    lag_axis,
)
from seismake.noise.normalize import (
    band_window,
    normalize_spectra,
    running_mean,
    time_normalize,
)
from seismake.noise.params import CorrelationParams
from seismake.noise.windows import cut_windows, prepare_windows

DAY = UTCDateTime(2021, 3, 4)
FS = 10.0


def delayed_pair(n, delay, seed=0, noise=0.0):
    """u1 = x(t), u2 = x(t - delay) (+ independent noise): energy travels 1 -> 2."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n + delay)
    u1 = x[delay:] + noise * rng.standard_normal(n)
    u2 = x[:n] + noise * rng.standard_normal(n)
    return np.stack([u1, u2]).astype(np.float32)


def params(**kw):
    base = dict(sampling_rate=FS, cc_len=200.0, step=100.0, freqmin=0.2, freqmax=3.0, maxlag=20.0)
    base.update(kw)
    return CorrelationParams(**base)


@pytest.mark.parametrize("method", ["xcorr", "deconv", "coherency"])
@pytest.mark.parametrize("freq_norm", ["no", "rma", "phase_only"])
def test_delayed_copy_peaks_at_delay_with_sign_convention(method, freq_norm):
    delay = 37
    p = params(cc_method=method, freq_norm=freq_norm)
    data = delayed_pair(int(1200 * FS), delay, noise=0.3)
    win = cut_windows(data, int(p.cc_len * FS), int(p.step * FS))
    good = np.ones(win.shape[:2], dtype=bool)
    cc, ngood = correlate_windows(win, good, [0, 1], [1, 0], p)
    lags = lag_axis(p)
    assert lags[lags.size // 2] == 0.0
    assert ngood.tolist() == [[win.shape[1]], [win.shape[1]]]
    assert lags[np.argmax(cc[0, 0])] == pytest.approx(delay / FS)
    assert lags[np.argmax(cc[1, 0])] == pytest.approx(-delay / FS)


def test_time_normalization_as_defined():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 500)).astype(np.float32)
    assert np.array_equal(time_normalize(x, "one_bit", 5), np.sign(x))
    assert time_normalize(x, "no", 5) is x
    out = time_normalize(x, "rma", 11)
    for i in range(20, 480, 37):
        expected = x[1, 2, i] / np.mean(np.abs(x[1, 2, i - 5 : i + 6]))
        assert out[1, 2, i] == pytest.approx(expected, rel=1e-5)
    # a sine with slowly varying amplitude comes out with a flat envelope of pi/2
    t = np.arange(20000)
    envelope = 1 + 0.9 * np.sin(2 * np.pi * t / 20000)
    sine = (envelope * np.sin(2 * np.pi * t / 20))[None]
    flat = time_normalize(sine, "rma", 20)  # one period
    peaks = flat[0, 1000:-1000].reshape(-1, 20).max(axis=1)
    assert np.allclose(peaks, np.pi / 2, rtol=0.02)


def test_phase_only_unit_modulus_in_band():
    n_fft = 2000
    window, k0, k1 = band_window(n_fft, FS, 1.0, 2.0)
    freqs = np.fft.rfftfreq(n_fft, 1 / FS)
    spec = scipy.fft.rfft(np.random.default_rng(2).standard_normal((3, n_fft)))
    out = normalize_spectra(spec, "phase_only", 0, window)
    inband = (freqs >= 1.0) & (freqs <= 2.0)
    assert np.allclose(np.abs(out[:, inband]), 1.0)
    assert np.allclose(np.angle(out[:, inband]), np.angle(spec[:, inband]))
    assert np.all(np.abs(out) <= 1 + 1e-12)
    assert np.all(out[:, :k0] == 0) and np.all(out[:, k1:] == 0)
    ramp = window[k0 : np.flatnonzero(inband)[0]]
    assert np.all(np.diff(ramp) >= 0) and ramp.size == 100


def test_spectral_rma_divides_by_running_mean():
    rng = np.random.default_rng(3)
    spec = (rng.standard_normal((2, 400)) + 1j * rng.standard_normal((2, 400))) * np.linspace(
        1, 100, 400
    )
    out = normalize_spectra(spec, "rma", 9)
    for k in (10, 200, 390):
        assert out[1, k] == pytest.approx(spec[1, k] / np.mean(np.abs(spec[1, k - 4 : k + 5])))
    # the 100-fold amplitude trend is removed
    amp = running_mean(np.abs(out[0]), 41)
    assert amp[30:-30].max() / amp[30:-30].min() < 1.5


def test_coherency_bounded_by_one_and_one_for_full_coherence():
    p = params(cc_method="coherency", freq_norm="no", smoothspect_N=3)
    n = int(800 * FS)
    rng = np.random.default_rng(4)
    incoherent = rng.standard_normal((2, n)).astype(np.float32)
    spiky = incoherent * np.exp(3 * rng.standard_normal((2, n))).astype(np.float32)
    data = np.concatenate([delayed_pair(n, 0), incoherent, spiky])
    win = cut_windows(data, int(p.cc_len * FS), int(p.step * FS))
    good = np.ones(win.shape[:2], dtype=bool)
    for q in (p, params(cc_method="coherency", substack=True, smoothspect_N=0)):
        cc, _ = correlate_windows(win, good, [0, 2, 4, 0, 0], [1, 3, 5, 3, 5], q)
        assert np.abs(cc).max() <= 1 + 1e-5
        assert cc[0, :, cc.shape[-1] // 2].min() == pytest.approx(1.0, abs=1e-3)
        assert np.abs(cc[1:]).max() < 0.5


def reference_loop(windows, good, left, right, p):
    """Per combination and window, the textbook steps one at a time (float64 products)."""
    _, n_win, n_len = windows.shape
    n_maxlag = round(p.maxlag * p.sampling_rate)
    n_fft = fft_length(n_len, n_maxlag)
    window, k0, k1 = band_window(n_fft, p.sampling_rate, p.freqmin, p.freqmax)
    group = p.substack_windows if p.substack else n_win
    n_sub = -(-n_win // group)
    out = np.zeros((len(left), n_sub, 2 * n_maxlag + 1))
    ngood = np.zeros((len(left), n_sub), dtype=int)

    def spectrum(c, w):
        x = prepare_windows(windows[c, w], p.sampling_rate)
        x = time_normalize(x, p.time_norm, p.smooth_N)
        spec = scipy.fft.rfft(x, n_fft)
        if p.freq_norm != "no":
            spec = normalize_spectra(spec, p.freq_norm, p.smoothspect_N, None) * window
        return spec.astype(np.complex128)

    def smoothed(v):
        """NoisePy 0.9.93's moving_ave: N-point boxcar, ends extended with the end values."""
        n = p.smoothspect_N
        if n <= 1:
            return v.copy()
        padded = np.concatenate([np.full(n, v[0]), v, np.full(n, v[-1])])
        return np.convolve(padded, np.ones(n) / n, mode="same")[n:-n]

    for q, (i, j) in enumerate(zip(left, right, strict=True)):
        for g in range(n_sub):
            num = 0
            pi = pj = 0
            for w in range(g * group, min(n_win, (g + 1) * group)):
                if not (good[i, w] and good[j, w]):
                    continue
                ngood[q, g] += 1
                xi, xj = spectrum(i, w), spectrum(j, w)
                if p.cc_method == "deconv":
                    s2 = smoothed(np.abs(xi)) ** 2
                    inv = np.divide(1.0, s2, out=np.zeros_like(s2), where=s2 > 0)
                    num = num + np.conj(xi) * xj * inv
                else:
                    num = num + np.conj(xi) * xj
                pi = pi + np.abs(xi) ** 2
                pj = pj + np.abs(xj) ** 2
            if ngood[q, g] == 0:
                continue
            if p.cc_method == "coherency":
                band = slice(k0, k1)
                gamma = np.zeros_like(num)
                nb = smoothed(num[band].real) + 1j * smoothed(num[band].imag)
                gamma[band] = nb / np.sqrt(smoothed(pi[band]) * smoothed(pj[band]))
                full_sum = 2 * window.sum() - window[0] - (window[-1] if n_fft % 2 == 0 else 0)
                spec = gamma * window * n_fft / full_sum
            else:
                spec = num / ngood[q, g]
            lagged = np.fft.irfft(spec, n_fft)
            out[q, g] = np.concatenate([lagged[n_fft - n_maxlag :], lagged[: n_maxlag + 1]])
    return out, ngood


@pytest.mark.parametrize(
    "kw",
    [
        dict(cc_method="xcorr", freq_norm="no", time_norm="one_bit"),
        dict(cc_method="xcorr", freq_norm="rma", substack=True, substack_windows=1),
        dict(cc_method="xcorr", freq_norm="phase_only", substack=True, substack_windows=3),
        dict(cc_method="deconv", freq_norm="no", time_norm="rma", smooth_N=5),
        dict(cc_method="deconv", freq_norm="rma", substack=True, substack_windows=2),
        dict(cc_method="coherency", freq_norm="no", smoothspect_N=2),
        dict(cc_method="coherency", freq_norm="rma", substack=True, substack_windows=3),
    ],
)
def test_batched_equals_reference_loop(kw):
    p = params(cc_len=100.0, step=50.0, maxlag=10.0, **kw)
    rng = np.random.default_rng(5)
    data = rng.standard_normal((4, int(500 * FS))).astype(np.float32)
    data[1] += 0.5 * data[0]
    win = cut_windows(data, int(p.cc_len * FS), int(p.step * FS))
    good = rng.random(win.shape[:2]) > 0.2
    left = np.array([0, 0, 1, 2, 3, 0, 1])
    right = np.array([1, 2, 3, 3, 3, 0, 0])
    cc, ngood = correlate_windows(win, good, left, right, p, threads=2)
    ref, ref_ngood = reference_loop(win, good, left, right, p)
    assert np.array_equal(ngood, ref_ngood)
    assert np.max(np.abs(cc - ref)) <= 1e-6 * np.max(np.abs(ref))


def station_inventory(coords):
    stations = []
    for name, (lat, lon) in coords.items():
        channels = [Channel(f"BH{c}", "", lat, lon, 0.0, 0.0, sample_rate=FS) for c in "ZNE"]
        stations.append(Station(name, lat, lon, 0.0, channels=channels))
    return Inventory(networks=[Network("SY", stations=stations)], source="test")


def synthetic_day(stations, delays, fs, seed=0, components="ZNE"):
    """Common noise x(t - delay_s) plus local noise on every channel, one full day."""
    rng = np.random.default_rng(seed)
    n = int(86400 * fs)
    pad = max(delays.values()) + 1
    src = rng.standard_normal(n + pad)
    st = Stream()
    for sta in stations:
        for comp in components:
            x = src[pad - delays[sta] : pad - delays[sta] + n] + 0.5 * rng.standard_normal(n)
            header = dict(
                network="SY",
                station=sta,
                location="",
                channel="BH" + comp,
                starttime=DAY,
                sampling_rate=fs,
            )
            st += Trace(x.astype(np.float32), header=header)
    return st


def day_params(**kw):
    base = dict(
        sampling_rate=2.0,
        cc_len=3600.0,
        step=1800.0,
        freqmin=0.05,
        freqmax=0.5,
        maxlag=100.0,
        rm_resp="no",
        time_norm="one_bit",
    )
    base.update(kw)
    return CorrelationParams(**base)


def test_correlate_streams_pairs_geometry_and_delays():
    coords = {"AAA": (34.0, -117.0), "BBB": (34.2, -116.8), "CCC": (33.9, -117.3)}
    delays = {"AAA": 0, "BBB": 8, "CCC": 20}
    st = synthetic_day(list(coords), delays, 2.0)
    p = day_params(ncomp=3)
    day = correlate_streams(st, station_inventory(coords), p, DAY, threads=2)
    assert day.reason == ""
    assert day.components == COMPONENTS_3
    assert list(zip(day.station1, day.station2, strict=True)) == [
        ("SY.AAA.", "SY.BBB."),
        ("SY.AAA.", "SY.CCC."),
        ("SY.BBB.", "SY.CCC."),
    ]
    assert day.data.shape == (3, 9, 1, 401)
    assert day.window_start.size == 47
    assert day.window_start[1] - day.window_start[0] == 1800.0
    for k in range(3):
        a, b = day.station1[k].split(".")[1], day.station2[k].split(".")[1]
        dist, az, baz = gps2dist_azimuth(*coords[a], *coords[b])
        assert day.distance_km[k] == pytest.approx(dist / 1000)
        assert day.azimuth_deg[k] == pytest.approx(az)
        assert day.backazimuth_deg[k] == pytest.approx(baz)
        assert np.allclose(day.coords1[k, :2], coords[a])
        expected = (delays[b] - delays[a]) / 2.0
        for c in range(9):
            assert day.lags_s[np.argmax(day.data[k, c, 0])] == pytest.approx(expected)
    assert day.channel1[0].tolist() == ["BH" + c[0] for c in COMPONENTS_3]


def test_pair_selection_and_ncomp_1(tmp_path):
    delays = {"AAA": 0, "BBB": 4}
    st = synthetic_day(list(delays), delays, 2.0)
    auto = correlate_streams(st, None, day_params(ncomp=1, acorr_only=True, xcorr_only=False), DAY)
    both = correlate_streams(st, None, day_params(ncomp=1, xcorr_only=False), DAY)
    assert auto.components == ("ZZ",)
    assert list(zip(auto.station1, auto.station2, strict=True)) == [
        ("SY.AAA.", "SY.AAA."),
        ("SY.BBB.", "SY.BBB."),
    ]
    assert both.n_pair == 3
    # auto-correlations peak at zero lag and are symmetric
    zz = auto.data[0, 0, 0]
    assert np.argmax(zz) == zz.size // 2
    assert np.allclose(zz, zz[::-1], atol=1e-4 * zz.max())
    assert np.isnan(auto.distance_km).all()  # no inventory: no coordinates


def test_day_file_round_trip(tmp_path):
    delays = {"AAA": 0, "BBB": 4, "CCC": 6}
    st = synthetic_day(list(delays), delays, 2.0, components="Z")
    st.remove(st.select(station="CCC")[0])
    st += synthetic_day(["CCC"], {"CCC": 6}, 2.0, components="NE")
    st[0].data[1000:1100] = np.nan
    p = day_params(ncomp=3, substack=True, substack_windows=8)
    day = correlate_streams(st, None, p, DAY)
    assert day.nonfinite == {st[0].id: 100}
    path = tmp_path / "ccf" / "2021-03-04.h5"
    write_day_correlations(path, day)
    assert [f.name for f in path.parent.iterdir()] == [path.name]
    back = read_day_correlations(path)
    for name in ("data", "ngood", "lags_s", "window_start", "substack_start", "distance_km"):
        assert np.array_equal(getattr(back, name), getattr(day, name), equal_nan=True), name
    assert np.array_equal(back.channel1, day.channel1)
    assert back.params == p and back.components == day.components and back.day == "2021-03-04"
    assert back.gap_s == day.gap_s and back.gap_s[st[0].id] == 50.0
    assert back.nonfinite == day.nonfinite
    # missing combinations (CCC has no Z, others only Z) are zero with ngood 0
    k = list(zip(day.station1, day.station2, strict=True)).index(("SY.AAA.", "SY.CCC."))
    zz, ze = COMPONENTS_3.index("ZZ"), COMPONENTS_3.index("ZE")
    assert day.ngood[k, zz].sum() == 0 and not day.data[k, zz].any()
    assert day.ngood[k, ze].sum() > 0 and day.channel2[k, ze] == "BHE"
    subset = read_day_correlations(path, [2, 0])
    assert np.array_equal(subset.data, day.data[[2, 0]])


def test_unusable_day_gives_empty_well_formed_file(tmp_path):
    fs = 2.0
    bad = Stream(
        [
            Trace(
                np.full(int(86400 * fs), np.nan),
                header=dict(
                    network="SY", station=s, channel="BHZ", starttime=DAY, sampling_rate=fs
                ),
            )
            for s in ("AAA", "BBB")
        ]
    )
    p = day_params(ncomp=1)
    day = correlate_streams(bad, None, p, DAY)
    assert isinstance(day, DayCorrelations)
    assert day.n_pair == 0 and day.reason.startswith("no usable channel")
    assert day.data.shape == (0, 1, 0, 401)
    assert set(day.dropped) == {"SY.AAA..BHZ", "SY.BBB..BHZ"}
    path = Path(tmp_path) / "empty.h5"
    write_day_correlations(path, day)
    back = read_day_correlations(path)
    assert back.n_pair == 0 and back.reason == day.reason
    assert back.lags_s.size == 401 and back.data.shape == (0, 1, 0, 401)
    assert set(back.dropped) == set(day.dropped)
    assert "172800 NaN/Inf samples" in back.dropped["SY.AAA..BHZ"]
    nothing = correlate_streams(Stream(), None, p, DAY)
    assert nothing.n_pair == 0 and nothing.reason


def test_reading_a_foreign_file_names_it(tmp_path):
    path = tmp_path / "not.h5"
    path.write_bytes(b"garbage")
    with pytest.raises(CorrelationFileError, match=r"not\.h5"):
        read_day_correlations(path)
    truncated = tmp_path / "truncated.h5"
    with h5py.File(truncated, "w") as h5:
        h5.attrs["format"] = "seismake.noise.ccf"
        h5.attrs["n_pair"] = 0
    with pytest.raises(CorrelationFileError, match=r"truncated\.h5"):
        read_day_correlations(truncated)


@pytest.mark.parametrize("components", ["ZNE", "mixed"])
def test_day_written_in_blocks_equals_the_day_in_memory(tmp_path, monkeypatch, components):
    """Streaming into the file a few combinations at a time gives the in-memory day."""
    delays = {"AAA": 0, "BBB": 4, "CCC": 6}
    if components == "ZNE":
        st = synthetic_day(list(delays), delays, 2.0)
    else:  # CCC lacks Z: combinations are not dense, written one by one
        st = synthetic_day(["AAA", "BBB"], delays, 2.0)
        st += synthetic_day(["CCC"], {"CCC": 6}, 2.0, components="NE")
    p = day_params(ncomp=3, substack=True, substack_windows=1)
    in_memory = correlate_streams(st, None, p, DAY, threads=2)
    # blocks of one pair (9 combinations) at most: several blocks and both buffers in turn
    monkeypatch.setattr(correlate_module, "CHUNK_BYTES", 1)
    path = tmp_path / "day.h5"
    write_correlated_day(path, lambda allocate: correlate_streams(st, None, p, DAY, 2, allocate))
    back = read_day_correlations(path)
    assert back.n_pair == in_memory.n_pair == 3
    assert np.array_equal(back.ngood, in_memory.ngood)
    assert np.array_equal(back.data, in_memory.data)
    assert np.abs(back.data).max() > 0
