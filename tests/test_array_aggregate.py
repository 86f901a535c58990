"""Aggregator: synthetic plane waves -> detections; FK HDF5 and detections CSV; figures."""

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from seismake.array.aggregate import DETECTION_COLUMNS, aggregate_detections
from seismake.array.fbands import make_custom_fbands
from seismake.array.fk import sliding_time_array_fk_multifreq, slowness_power_map
from seismake.array.io import (
    ArrayFileError,
    read_detections_csv,
    read_fk_hdf5,
    write_detections_csv,
    write_fk_hdf5,
)
from seismake.array.synthetic import PlaneWave, plane_wave_stream, ring_array
from seismake.plot.array import plot_sliding_window_multifreq, plot_slowness_power

GRID = dict(sll_x=-0.6, slm_x=0.6, sll_y=-0.6, slm_y=0.6, sl_s=0.02)
WAVES = [
    PlaneWave(60.0, 3.0, start_s=100.0, duration_s=150.0, fmin=0.5, fmax=1.5),
    PlaneWave(250.0, 4.5, start_s=350.0, duration_s=150.0, fmin=2.0, fmax=4.0),
]
THIRD = 2.0 ** (1.0 / 3.0)  # third-octave band ratio


def _run(waves, seed):
    east, north = ring_array(9, 1000.0)
    st = plane_wave_stream(east, north, waves, 20.0, 600.0, noise_rms=0.3, seed=seed)
    f_bands = make_custom_fbands(0.5, 4.0, win_min=10.0, win_max=30.0, overlap=0.25)
    return st, sliding_time_array_fk_multifreq(st, "A01", f_bands, **GRID)


@pytest.fixture(scope="module")
def two_waves():
    return _run(WAVES, seed=3)


def _detect(res, **kw):
    return aggregate_detections(
        res.times, res.f_bands, res.backazimuth, res.velocity, res.semblance, **kw
    )


def test_two_plane_waves_give_two_detections(two_waves):
    st, res = two_waves
    det = _detect(res)
    assert list(det.columns) == DETECTION_COLUMNS
    assert len(det) == 2
    t0 = st[0].stats.starttime.timestamp
    longest = res.f_bands["win"].max()
    for (_, row), wave in zip(det.iterrows(), WAVES, strict=True):
        assert abs((row.backazimuth_deg - wave.backazimuth_deg + 180) % 360 - 180) < 5.0
        assert abs(row.velocity_km_s / wave.velocity_km_s - 1.0) < 0.05
        assert abs(row.start - (t0 + wave.start_s)) <= longest
        assert abs(row.end - (t0 + wave.start_s + wave.duration_s)) <= longest
        assert row.fmin < wave.fmax and row.fmax > wave.fmin
        # within one third-octave band of the signal band (spectral leakage of the taper)
        assert row.fmin >= wave.fmin / THIRD**2
        assert row.fmax <= wave.fmax * THIRD**2
        assert row.peak_semblance > 0.9
        assert row.n_pixels >= 6


def test_incoherent_noise_gives_no_detection():
    _, res = _run([], seed=11)
    assert np.nanmax(res.semblance) < 0.6
    assert len(_detect(res)) == 0


def _pixels(n_f=4, n_t=30):
    times = 1.6e9 + 5.0 * np.arange(n_t)
    f_bands = pd.DataFrame({"fmin": 2.0 ** np.arange(n_f), "fmax": 2.0 ** np.arange(1, n_f + 1)})
    shape = (n_f, n_t)
    return times, f_bands, np.zeros(shape), np.ones(shape), np.full(shape, 0.1)


def test_backazimuth_wraps_around_north():
    times, f_bands, baz, vel, semb = _pixels()
    semb[1:3, 5:15] = 0.9
    baz[1:3, 5:15] = np.where(np.arange(10) % 2, 357.0, 4.0)
    vel[1:3, 5:15] = 3.0
    det = aggregate_detections(times, f_bands, baz, vel, semb)
    assert len(det) == 1
    row = det.iloc[0]
    assert row.n_pixels == 20
    assert min(row.backazimuth_deg, 360 - row.backazimuth_deg) == pytest.approx(0.5, abs=1e-9)
    assert row.start == pytest.approx(times[5] - 2.5)
    assert row.end == pytest.approx(times[14] + 2.5)
    assert (row.fmin, row.fmax) == (2.0, 8.0)
    assert row.velocity_km_s == pytest.approx(3.0)


def test_inconsistent_neighbours_split_and_short_groups_dropped():
    times, f_bands, baz, vel, semb = _pixels()
    semb[0:2, 0:10] = 0.8
    baz[0:2, 0:10] = 100.0
    vel[0:2, 0:5] = 2.0
    vel[0:2, 5:10] = 3.0  # 50 % jump: a second detection
    semb[3, 20:22] = 0.95  # two pixels only
    baz[3, 20:22] = 200.0
    semb[3, 25:29] = 0.7
    baz[3, 25:29] = [30.0, 50.0, 70.0, 90.0]  # 20 degree steps: four single pixels
    det = aggregate_detections(times, f_bands, baz, vel, semb, min_pixels=2)
    assert len(det) == 3
    np.testing.assert_allclose(det.velocity_km_s, [2.0, 3.0, 1.0])
    np.testing.assert_array_equal(det.n_pixels, [10, 10, 2])
    det = aggregate_detections(times, f_bands, baz, vel, semb, min_pixels=2, min_duration_s=20.0)
    assert len(det) == 2
    det = aggregate_detections(times, f_bands, baz, vel, semb, baz_tol_deg=25.0, min_pixels=2)
    assert sorted(det.n_pixels) == [2, 4, 10, 10]
    assert len(aggregate_detections(times, f_bands, baz, vel, np.full_like(semb, np.nan))) == 0


def test_fk_hdf5_and_detections_csv_round_trip(two_waves, tmp_path):
    _, res = two_waves
    path = tmp_path / "fk" / "2020-01-01.h5"
    write_fk_hdf5(res, path)
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    back = read_fk_hdf5(path)
    for name in ("times", "backazimuth", "velocity", "semblance"):
        np.testing.assert_array_equal(getattr(back, name), getattr(res, name))
    pd.testing.assert_frame_equal(back.f_bands, res.f_bands, check_dtype=False)
    assert back.geometry.ids == res.geometry.ids
    np.testing.assert_array_equal(back.geometry.east_m, res.geometry.east_m)
    assert back.grid == res.grid and back.sl_corr == res.sl_corr
    assert back.element == "A01" and back.fs == 20.0
    assert back.t_start == pytest.approx(res.t_start, abs=1e-6)
    det = _detect(back)
    pd.testing.assert_frame_equal(det, _detect(res))
    csv = tmp_path / "detections.csv"
    write_detections_csv(det, csv)
    assert csv.read_text().splitlines()[1].startswith("2020-01-01T00:01:")
    again = read_detections_csv(csv)
    np.testing.assert_allclose(again[["start", "end"]], det[["start", "end"]], atol=1e-6)
    np.testing.assert_allclose(again.backazimuth_deg, det.backazimuth_deg, atol=1e-6)
    (tmp_path / "bad.h5").write_bytes(b"not hdf5")
    with pytest.raises(ArrayFileError, match=r"bad\.h5"):
        read_fk_hdf5(tmp_path / "bad.h5")


def test_figures_written(two_waves, tmp_path):
    st, res = two_waves
    det = _detect(res)
    panels = tmp_path / "fk.png"
    plot_sliding_window_multifreq(
        res.times,
        res.f_bands,
        res.backazimuth,
        res.velocity,
        res.semblance,
        panels,
        detections=det,
        trace=st[0],
        title="synthetic",
    )
    k, j = np.unravel_index(np.nanargmax(res.semblance), res.semblance.shape)
    band = res.f_bands.iloc[k]
    sx, sy, power = slowness_power_map(
        st, "A01", band.fmin, band.fmax, res.times[j], band.win, **GRID
    )
    plane = tmp_path / "slowness.png"
    plot_slowness_power(sx, sy, power, plane, truth=(60.0, 3.0))
    for png in (panels, plane):
        img = mpimg.imread(png)
        assert img.ndim == 3 and img.shape[0] > 300 and img.shape[1] > 300
        assert img[..., :3].std() > 0.05
