"""Sliding-window FK: known plane waves, ObsPy's array_processing side by side, input checks."""

import numpy as np
import pandas as pd
import pytest
from obspy import Stream, UTCDateTime
from obspy.core.inventory import Channel, Inventory, Network, Station
from obspy.signal.array_analysis import array_processing, get_geometry

from seismake.array.fk import (
    sliding_time_array_fk,
    sliding_time_array_fk_multifreq,
    slowness_power_map,
)
from seismake.array.geometry import (
    ArrayStreamError,
    MissingCoordinatesError,
    SamplingRateMismatch,
    array_geometry,
    attach_coordinates,
    baz_velocity,
    slowness_from_baz,
)
from seismake.array.synthetic import PlaneWave, plane_wave_stream, ring_array

FS = 20.0


def _ring_stream(waves, duration=120.0, noise=0.05, seed=1):
    east, north = ring_array(9, 1000.0)
    return plane_wave_stream(east, north, waves, FS, duration, noise_rms=noise, seed=seed)


def _angle(a, b):
    return np.abs((np.asarray(a) - b + 180.0) % 360.0 - 180.0)


def test_geometry_matches_obspy_and_layout():
    east, north = ring_array(9, 1000.0)
    st = plane_wave_stream(east, north, [], FS, 10.0, noise_rms=1.0)
    geo = array_geometry(st)
    assert geo.ids == tuple(tr.id for tr in st)
    np.testing.assert_allclose(geo.east_m, east, atol=0.01)
    np.testing.assert_allclose(geo.north_m, north, atol=0.01)
    assert geo.aperture_m == pytest.approx(2000.0, abs=0.05)
    obspy_km = get_geometry(st)[:, :2]
    np.testing.assert_allclose(geo.xy_km, obspy_km, atol=2e-5)


def test_slowness_conventions():
    # a wave from the east (baz 90) propagates west: negative east slowness
    sx, sy = slowness_from_baz(90.0, 2.0)
    assert sx == pytest.approx(-0.5) and sy == pytest.approx(0.0, abs=1e-15)
    baz, vel = baz_velocity(np.array([-0.5, 0.0, 0.3]), np.array([0.0, -0.25, 0.4]))
    np.testing.assert_allclose(baz, [90.0, 0.0, 180.0 + np.degrees(np.arctan2(0.3, 0.4))])
    np.testing.assert_allclose(vel, [2.0, 4.0, 2.0])


@pytest.mark.parametrize(("baz", "vel"), [(47.0, 2.8), (355.0, 3.6), (201.5, 1.7)])
def test_plane_wave_recovered(baz, vel):
    wave = PlaneWave(baz, vel, start_s=10.0, duration_s=100.0, fmin=1.0, fmax=4.0)
    st = _ring_stream([wave])
    # grid step 0.008 s/km: the nearest grid point is within 2 % / 1.2 deg of the truth
    grid = dict(sll_x=-0.64, slm_x=0.64, sll_y=-0.64, slm_y=0.64, sl_s=0.008)
    res = sliding_time_array_fk(st, "A01", 1.0, 4.0, win=10.0, step=10.0, **grid)
    t0 = st[0].stats.starttime.timestamp
    inside = (res.window_starts >= t0 + 10.0) & (res.window_starts + 10.0 <= t0 + 110.0)
    assert inside.sum() == 10
    assert np.all(res.semblance[inside] > 0.9)
    assert np.all(_angle(res.backazimuth[inside], baz) < 2.0)
    np.testing.assert_array_less(np.abs(res.velocity[inside] / vel - 1.0), 0.03)
    # window centres (Cardinal convention), POSIX seconds
    np.testing.assert_allclose(np.diff(res.times), 10.0)
    assert res.times[0] == pytest.approx(t0 + 5.0)


def test_static_slowness_correction_centres_grid_on_source():
    baz, vel = 130.0, 2.5
    st = _ring_stream([PlaneWave(baz, vel, 0.0, 120.0, 1.0, 4.0)], duration=60.0)
    # Cardinal's sl_corr points towards the source: minus the propagation slowness
    sx, sy = slowness_from_baz(baz + 3.0, vel * 1.02)
    res = sliding_time_array_fk(
        st,
        "A01",
        1.0,
        4.0,
        win=20.0,
        step=10.0,
        sll_x=-0.1,
        slm_x=0.1,
        sll_y=-0.1,
        slm_y=0.1,
        sl_s=0.005,
        sl_corr=(-sx, -sy),
    )
    assert np.all(res.semblance > 0.9)
    assert np.all(_angle(res.backazimuth, baz) < 2.0)
    np.testing.assert_array_less(np.abs(res.velocity / vel - 1.0), 0.03)


@pytest.mark.parametrize(
    ("fmin", "fmax", "win", "step", "offset", "span"),
    [(0.5, 4.0, 20.0, 2.0, 0.0, None), (1.2, 3.3, 13.7, 3.1, 7.33, 230.0)],
)
def test_same_as_obspy_array_processing(fmin, fmax, win, step, offset, span):
    waves = [
        PlaneWave(60.0, 3.0, 60.0, 90.0, 0.5, 4.0),
        PlaneWave(300.0, 1.5, 170.0, 60.0, 1.0, 3.0, amplitude=0.7),
    ]
    st = _ring_stream(waves, duration=260.0, noise=0.5, seed=7)
    t0 = st[0].stats.starttime + offset
    t1 = st[0].stats.endtime if span is None else t0 + span
    grid = dict(sll_x=-3.6, slm_x=3.6, sll_y=-3.6, slm_y=3.6, sl_s=0.18)
    ref = array_processing(
        st,
        win_len=win,
        win_frac=step / win,
        semb_thres=-1e9,
        vel_thres=-1e9,
        frqlow=fmin,
        frqhigh=fmax,
        stime=t0,
        etime=t1,
        prewhiten=0,
        timestamp="julsec",
        method=0,
        **grid,
    )
    res = sliding_time_array_fk(st, "A01", fmin, fmax, win, step, t_start=t0, t_end=t1, **grid)
    m = len(ref)
    # same window positions; ObsPy may stop one window before the last that fits
    nsamp = int(win * FS)
    n_avail = round((t1 - t0) * FS) + 1
    assert len(res.times) == (n_avail - nsamp) // res.nstep + 1
    assert m == (n_avail - 1 - nsamp) // res.nstep + 1
    np.testing.assert_allclose(res.window_starts[:m], ref[:, 0], atol=1e-6)
    same = (_angle(res.backazimuth[:m], ref[:, 3] % 360.0) < 1e-6) & np.isclose(
        1.0 / res.velocity[:m], ref[:, 4], rtol=1e-9
    )
    assert same.mean() >= 0.99
    np.testing.assert_array_less(np.abs(res.semblance[:m] - ref[:, 1]), 1e-3)
    np.testing.assert_allclose(res.beam_power[:m], ref[:, 2], rtol=1e-3)
    # the record holds signal and noise windows alike
    assert res.semblance.max() > 0.6 and res.semblance.min() < 0.3


def test_multifreq_time_axis_and_nearest_neighbour():
    st = _ring_stream([PlaneWave(80.0, 2.0, 20.0, 60.0, 0.5, 4.0)], duration=120.0, noise=0.3)
    f_bands = pd.DataFrame(
        {
            "band": [1, 2],
            "fmin": [0.5, 2.0],
            "fcenter": [1.0, 3.0],
            "fmax": [1.5, 4.0],
            "win": [30.0, 10.0],
            "step": [7.0, 2.5],
        }
    )
    grid = dict(sll_x=-0.8, slm_x=0.8, sll_y=-0.8, slm_y=0.8, sl_s=0.04)
    res = sliding_time_array_fk_multifreq(st, "A01", f_bands, **grid)
    slow, fast = res.bands
    np.testing.assert_array_equal(res.times, fast.times)
    assert res.semblance.shape == (2, fast.times.size)
    np.testing.assert_array_equal(res.semblance[1], fast.semblance)
    # Cardinal's rule: nearest window of the slow band (argmin, earlier on ties)
    nearest = np.array([np.argmin(np.abs(t - slow.times)) for t in res.times])
    half = 0.5 * slow.nstep / slow.fs
    covered = (res.times >= slow.times[0] - half) & (res.times <= slow.times[-1] + half)
    assert covered.sum() > 0.7 * covered.size and not covered.all()
    np.testing.assert_array_equal(res.semblance[0, covered], slow.semblance[nearest[covered]])
    np.testing.assert_array_equal(res.backazimuth[0, covered], slow.backazimuth[nearest[covered]])
    assert np.isnan(res.semblance[0, ~covered]).all()
    # threads give the same numbers
    res2 = sliding_time_array_fk_multifreq(st, "A01", f_bands, n_workers=2, **grid)
    np.testing.assert_array_equal(res2.semblance, res.semblance)
    np.testing.assert_array_equal(res2.velocity, res.velocity)


def test_slowness_power_map_peak_matches_sliding_window():
    st = _ring_stream([PlaneWave(250.0, 3.3, 0.0, 120.0, 1.0, 3.0)], duration=60.0)
    grid = dict(sll_x=-0.6, slm_x=0.6, sll_y=-0.6, slm_y=0.6, sl_s=0.02)
    res = sliding_time_array_fk(st, "A01", 1.0, 3.0, 20.0, 10.0, **grid)
    sx, sy, power = slowness_power_map(st, "A01", 1.0, 3.0, res.times[1], 20.0, **grid)
    assert power.shape == (sx.size, sy.size) == (61, 61)
    ix, iy = np.unravel_index(np.argmax(power), power.shape)
    assert sx[ix] == pytest.approx(res.slowness_x[1])
    assert sy[iy] == pytest.approx(res.slowness_y[1])
    assert power.max() == pytest.approx(res.semblance[1], abs=1e-5)
    assert 0.0 <= power.min() and power.max() <= 1.0


def test_missing_coordinates_names_trace():
    st = _ring_stream([], duration=30.0)
    del st[4].stats["coordinates"]
    with pytest.raises(MissingCoordinatesError, match=r"SY\.A05\.\.HHZ"):
        sliding_time_array_fk(st, "A01", 1.0, 4.0, 10.0, 5.0)
    with pytest.raises(MissingCoordinatesError, match=r"SY\.A05\.\.HHZ"):
        attach_coordinates(
            st,
            {
                tr.id: {"latitude": 35.0, "longitude": -117.0}
                for tr in st
                if tr.stats.station != "A05"
            },
        )


def test_mixed_sampling_rates_rejected_with_ids():
    st = _ring_stream([], duration=30.0)
    tr = st[2]
    tr.resample(40.0)
    with pytest.raises(SamplingRateMismatch, match=r"SY\.A03\.\.HHZ: 40 Hz") as err:
        sliding_time_array_fk(st, "A01", 1.0, 4.0, 10.0, 5.0)
    assert "SY.A01..HHZ: 20 Hz" in str(err.value)
    # once resampled explicitly to one rate, the stream is accepted
    tr.resample(FS)
    res = sliding_time_array_fk(st, "A01", 1.0, 4.0, 10.0, 5.0)
    assert res.times.size == 5


def test_other_bad_inputs():
    st = _ring_stream([], duration=30.0)
    with pytest.raises(ArrayStreamError, match="reference element 'ZZZ'"):
        sliding_time_array_fk(st, "ZZZ", 1.0, 4.0, 10.0, 5.0)
    short = Stream([tr.copy() for tr in st])
    short[3].trim(short[3].stats.starttime, short[3].stats.starttime + 10.0)
    with pytest.raises(ArrayStreamError, match=r"SY\.A04\.\.HHZ .* does not cover"):
        sliding_time_array_fk(short, "A01", 1.0, 4.0, 10.0, 5.0, t_end=25.0)
    with pytest.raises(ValueError, match="holds no DFT bin"):
        sliding_time_array_fk(st, "A01", 9.97, 9.99, 10.0, 5.0)


def test_attach_coordinates_from_inventory_and_manifest():
    st = _ring_stream([], duration=10.0)
    truth = array_geometry(st)
    start = UTCDateTime(2019, 1, 1)
    stations = [
        Station(
            tr.stats.station,
            tr.stats.coordinates.latitude,
            tr.stats.coordinates.longitude,
            elevation=100.0 + i,
            channels=[
                Channel(
                    tr.stats.channel,
                    "",
                    tr.stats.coordinates.latitude,
                    tr.stats.coordinates.longitude,
                    elevation=100.0 + i,
                    depth=0.0,
                    start_date=start,
                )
            ],
            creation_date=start,
        )
        for i, tr in enumerate(st)
    ]
    inv = Inventory(networks=[Network("SY", stations=stations)], source="test")
    manifest = {
        tr.id: {
            "latitude": tr.stats.coordinates.latitude,
            "longitude": tr.stats.coordinates.longitude,
            "elevation_m": 100.0 + i,
        }
        for i, tr in enumerate(st)
    }
    for source in (inv, manifest):
        for tr in st:
            del tr.stats["coordinates"]
        geo = array_geometry(attach_coordinates(st, source))
        np.testing.assert_allclose(geo.east_m, truth.east_m, atol=1e-6)
        np.testing.assert_allclose(geo.north_m, truth.north_m, atol=1e-6)
        np.testing.assert_allclose(geo.up_m, np.arange(9) - 4.0)
        assert geo.center[2] == pytest.approx(104.0)
