"""Preprocessing of the noise branch: response removal, resampling, gaps, windows."""

import numpy as np
import pytest
from obspy import Inventory, Stream, Trace, UTCDateTime
from obspy.core.inventory import Channel, Network, Station
from obspy.core.inventory.response import Response

from seismake.filters import bandpass
from seismake.noise.params import CorrelationParams, StackParams
from seismake.noise.preprocess import (
    preprocess_channel,
    preprocess_day,
    select_channels,
)
from seismake.noise.windows import cut_windows, n_windows, prepare_windows, window_mask

DAY = UTCDateTime(2021, 3, 4)


def trace(data, fs, start=DAY, sta="AAA", cha="BHZ", net="SY"):
    return Trace(
        data if np.ma.isMaskedArray(data) else np.asarray(data),
        header={
            "network": net,
            "station": sta,
            "location": "",
            "channel": cha,
            "starttime": start,
            "sampling_rate": fs,
        },
    )


def geophone_inventory(gain):
    """One channel SY.AAA..BHZ with a 1 Hz geophone response (two zeros at 0)."""
    response = Response.from_paz(
        zeros=[0j, 0j],
        poles=[-4.44 + 4.44j, -4.44 - 4.44j],
        stage_gain=gain,
        stage_gain_frequency=5.0,
        input_units="M/S",
        output_units="COUNTS",
        normalization_frequency=5.0,
    )
    channel = Channel("BHZ", "", 34.0, -117.0, 100.0, 0.0, sample_rate=2.0, response=response)
    station = Station("AAA", 34.0, -117.0, 100.0, channels=[channel])
    return Inventory(networks=[Network("SY", stations=[station])], source="test")


def test_response_removal_recovers_velocity_in_band():
    fs = 2.0
    n = int(86400 * fs)
    rng = np.random.default_rng(3)
    velocity = bandpass(rng.standard_normal(n), 0.08, 0.4, fs) * 1e-6
    inv = geophone_inventory(gain=1e9)
    response = inv[0][0][0].response
    freqs = np.fft.rfftfreq(n, 1 / fs)
    transfer = response.get_evalresp_response_for_frequencies(freqs, output="VEL")
    counts = np.fft.irfft(np.fft.rfft(velocity) * transfer, n)
    params = CorrelationParams(sampling_rate=fs, freqmin=0.05, freqmax=0.6, rm_resp="inv")
    data, valid, n_bad = preprocess_channel([trace(counts, fs)], DAY, params, inv)
    assert valid.all() and n_bad == 0
    # compare in the flat part of the pre-filter, away from the day edges
    got = bandpass(data.astype(np.float64), 0.1, 0.3, fs)[2000:-2000]
    want = bandpass(velocity, 0.1, 0.3, fs)[2000:-2000]
    assert np.corrcoef(got, want)[0, 1] > 0.999
    assert np.std(got) / np.std(want) == pytest.approx(1.0, rel=0.02)
    # the response is far from flat here: without removal the amplitude is off by orders
    assert np.std(bandpass(counts, 0.1, 0.3, fs)[2000:-2000]) / np.std(want) > 1e3


def test_missing_response_drops_channel_with_reason():
    fs = 2.0
    st = Stream([trace(np.random.default_rng(0).standard_normal(int(86400 * fs)), fs)])
    params = CorrelationParams(sampling_rate=fs, freqmin=0.05, freqmax=0.6, rm_resp="inv")
    empty_inv = Inventory(networks=[], source="test")
    day = preprocess_day(st, DAY, params, empty_inv)
    assert day.ids == []
    assert "SY.AAA..BHZ" in day.dropped
    assert "response" in day.dropped["SY.AAA..BHZ"]


@pytest.mark.parametrize("offset_s", [0.0, 0.0123])
def test_resampling_40_to_20_hz_preserves_phase(offset_s):
    fs_in, fs_out, f0, phase0 = 40.0, 20.0, 1.0, 0.7
    start = DAY + offset_s
    t = offset_s + np.arange(int(86400 * fs_in)) / fs_in
    x = np.sin(2 * np.pi * f0 * t + phase0)
    params = CorrelationParams(sampling_rate=fs_out, freqmin=0.5, freqmax=5.0, rm_resp="no")
    data, valid, _ = preprocess_channel([trace(x, fs_in, start=start)], DAY, params)
    assert data.size == int(86400 * fs_out)
    assert valid[100:].all()
    tt = np.arange(data.size) / fs_out
    sl = slice(20000, -20000)
    c = 2 * np.mean(data[sl] * np.cos(2 * np.pi * f0 * tt[sl]))
    s = 2 * np.mean(data[sl] * np.sin(2 * np.pi * f0 * tt[sl]))
    assert np.arctan2(c, s) == pytest.approx(phase0, abs=2e-3)
    assert np.hypot(c, s) == pytest.approx(1.0, rel=1e-2)


def test_antialias_removes_energy_above_new_nyquist():
    fs_in, fs_out = 40.0, 20.0
    t = np.arange(int(86400 * fs_in)) / fs_in
    # 14 Hz is above the 10 Hz Nyquist of 20 Hz: it must not alias to 6 Hz
    x = np.sin(2 * np.pi * 14.0 * t)
    params = CorrelationParams(sampling_rate=fs_out, freqmin=0.5, freqmax=9.0, rm_resp="no")
    data, _, _ = preprocess_channel([trace(x, fs_in)], DAY, params)
    assert np.std(data[20000:-20000]) < 1e-3


def test_gap_report_counts_missing_seconds_and_nonfinite():
    fs = 2.0
    rng = np.random.default_rng(1)
    first = rng.standard_normal(int(30000 * fs))
    first[100:150] = np.nan  # 50 samples = 25 s
    second_start = 31000.0  # 1000 s gap
    second = rng.standard_normal(int((86400 - 100 - second_start) * fs))  # last 100 s missing
    st = Stream([trace(first, fs), trace(second, fs, start=DAY + second_start)])
    params = CorrelationParams(sampling_rate=fs, freqmin=0.05, freqmax=0.6, rm_resp="no")
    day = preprocess_day(st, DAY, params)
    assert day.ids == ["SY.AAA..BHZ"]
    assert day.nonfinite["SY.AAA..BHZ"] == 50
    assert day.gap_s["SY.AAA..BHZ"] == pytest.approx(1000 + 100 + 25, abs=1.0)
    assert np.all(np.isfinite(day.data))
    assert not day.valid[0, int(30500 * fs)]
    assert day.valid[0, int(40000 * fs)]


def test_masked_samples_count_as_gaps():
    fs = 2.0
    data = np.ma.masked_array(np.random.default_rng(7).standard_normal(int(86400 * fs)))
    data[1000:1200] = np.ma.masked
    params = CorrelationParams(sampling_rate=fs, freqmin=0.05, freqmax=0.6, rm_resp="no")
    day = preprocess_day(Stream([trace(data, fs)]), DAY, params)
    assert day.gap_s["SY.AAA..BHZ"] == pytest.approx(100.0)
    assert not day.valid[0, 1000:1200].any() and day.valid[0, 1200:].all()


def test_channel_with_too_many_gaps_is_dropped():
    fs = 2.0
    half = np.random.default_rng(2).standard_normal(int(40000 * fs))
    st = Stream([trace(half, fs), trace(half, fs, sta="BBB")])
    st += trace(np.random.default_rng(5).standard_normal(int(86400 * fs)), fs, sta="CCC")
    params = CorrelationParams(sampling_rate=fs, freqmin=0.05, freqmax=0.6, rm_resp="no")
    day = preprocess_day(st, DAY, params)
    assert day.ids == ["SY.CCC..BHZ"]
    assert set(day.dropped) == {"SY.AAA..BHZ", "SY.BBB..BHZ"}
    assert "max_gap_fraction" in day.dropped["SY.AAA..BHZ"]
    assert day.gap_s["SY.AAA..BHZ"] == pytest.approx(46400, abs=1)


def test_select_channels_by_ncomp():
    st = Stream([trace(np.zeros(10), 1.0, cha=c) for c in ("BHZ", "BHN", "BHE", "BH1")])
    one, dropped1 = select_channels(st, 1)
    three, dropped3 = select_channels(st, 3)
    assert list(one) == ["SY.AAA..BHZ"]
    assert set(three) == {"SY.AAA..BHZ", "SY.AAA..BHN", "SY.AAA..BHE"}
    assert "SY.AAA..BH1" in dropped3 and "SY.AAA..BHN" in dropped1
    # two band codes for one component: the higher rate is used
    st2 = Stream([trace(np.zeros(10), 1.0, cha="LHZ"), trace(np.zeros(10), 40.0, cha="BHZ")])
    chosen, dropped = select_channels(st2, 1)
    assert list(chosen) == ["SY.AAA..BHZ"] and "SY.AAA..LHZ" in dropped


def test_windows_are_strided_views_and_counted():
    data = np.arange(2 * 100, dtype=np.float32).reshape(2, 100)
    win = cut_windows(data, 30, 10)
    assert win.shape == (2, 8, 30) == (2, n_windows(100, 30, 10), 30)
    assert np.shares_memory(win, data)
    assert np.array_equal(win[1, 3], data[1, 30:60])
    assert n_windows(86400, 1800, 450) == 189  # NoisePy's floor((86400-1800)/450) gives 188


def test_max_over_std_rejects_spiky_window_per_channel():
    rng = np.random.default_rng(4)
    data = rng.standard_normal((2, 1000))
    data[0, 455] = 50.0  # in windows starting at 400 and 450 (length 100, step 50)
    good = window_mask(data, 100, 50, max_over_std=10.0)
    assert good.shape == (2, 19)
    assert not good[0, 8] and not good[0, 9]
    assert good[0, :8].all() and good[0, 10:].all() and good[1].all()


def test_window_gap_fraction_rejects_windows():
    data = np.random.default_rng(6).standard_normal((1, 1000))
    valid = np.ones_like(data, dtype=bool)
    valid[0, 120:200] = False
    data[0, 120:200] = 0
    good = window_mask(data, 100, 100, 10.0, valid, max_window_gap_fraction=0.1)
    assert good[0].tolist() == [True, False, True, True, True, True, True, True, True, True]


def test_prepare_windows_removes_trend_and_tapers():
    t = np.arange(400, dtype=np.float64)
    win = (3.0 + 0.5 * t)[None, None, :]
    out = prepare_windows(win, sampling_rate=1.0)
    assert np.max(np.abs(out)) < 1e-3
    ones = prepare_windows(np.sign(np.sin(t / 3))[None, None, :] + 0, 1.0)
    assert ones[0, 0, 0] == 0.0 and abs(ones[0, 0, 200]) > 0.5


def test_params_from_dict_rejects_unknown_keys():
    params = CorrelationParams.from_dict({"cc_len": 600.0, "step": 300.0})
    assert params.cc_len == 600.0
    with pytest.raises(ValueError, match="freq_min"):
        CorrelationParams.from_dict({"freq_min": 0.1})
    with pytest.raises(ValueError, match="stak_method"):
        StackParams.from_dict({"stak_method": "pws"})
    with pytest.raises(ValueError, match="time_norm"):
        CorrelationParams(time_norm="two_bit")
    assert StackParams(stack_method="all").methods == ("linear", "pws", "robust")
