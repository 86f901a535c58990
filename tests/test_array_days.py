"""Array days: archive reading with bad elements, midnight merging, empty days, truth pairing."""

import shutil

import numpy as np
import pandas as pd
import pytest
from obspy import UTCDateTime, read

from seismake.archive import Archive, ArchiveSpec, Selection, build_manifest
from seismake.array.aggregate import DETECTION_COLUMNS, aggregate_days, aggregate_detections
from seismake.array.day import array_day_fk, best_window_power, read_array_day
from seismake.array.evaluate import compare_with_truth, processed_spans, read_plane_waves
from seismake.array.fbands import make_custom_fbands
from seismake.array.fk import sliding_time_array_fk_multifreq
from seismake.array.geometry import baz_velocity
from seismake.array.io import read_fk_hdf5, write_fk_hdf5
from seismake.array.synthetic import PlaneWave, plane_wave_stream, ring_array

FS = 20.0
BANDS = make_custom_fbands(0.5, 4.0, win_min=10.0, win_max=30.0, overlap=0.5, type="octave")
# grid step 0.008 s/km: the nearest grid point is within 3 % / 1.5 deg for 2.5-8 km/s
GRID = dict(sll_x=-0.44, slm_x=0.44, sll_y=-0.44, slm_y=0.44, sl_s=0.008)
ALL = Selection.from_config({"networks": ["SY"], "stations": ["*"], "channels": ["*"]})


def _angle(a, b):
    return np.abs((np.asarray(a) - b + 180.0) % 360.0 - 180.0)


def _two_days(wave, second_start_s=600.0):
    """A 1200 s record cut at 'midnight' (600 s) into two days, the FK of each."""
    east, north = ring_array(9, 1000.0)
    t0 = UTCDateTime(2020, 1, 1, 23, 50)
    st = plane_wave_stream(east, north, [wave], FS, 1200.0, noise_rms=0.3, seed=5, starttime=t0)
    first = st.slice(t0, t0 + 600.0 - 1.0 / FS)
    second = st.slice(t0 + second_start_s, None)
    return t0, [sliding_time_array_fk_multifreq(s, "A01", BANDS, **GRID) for s in (first, second)]


def test_arrival_crossing_midnight_is_one_detection():
    wave = PlaneWave(120.0, 3.0, start_s=480.0, duration_s=240.0, fmin=1.0, fmax=4.0)
    t0, days = _two_days(wave)
    assert days[1].t_start - days[0].t_end == pytest.approx(1.0 / FS)
    per_day = [
        aggregate_detections(d.times, d.f_bands, d.backazimuth, d.velocity, d.semblance)
        for d in days
    ]
    assert [len(d) for d in per_day] == [1, 1]  # cut at midnight

    merged = aggregate_days(days[::-1])
    assert len(merged) == 1
    row = merged.iloc[0]
    longest = BANDS["win"].max()
    assert abs(row.start - (t0 + 480.0).timestamp) <= longest
    assert abs(row.end - (t0 + 720.0).timestamp) <= longest
    assert row.n_pixels == sum(int(d.n_pixels.iloc[0]) for d in per_day)
    assert _angle(row.backazimuth_deg, 120.0) < 3.0
    assert abs(row.velocity_km_s / 3.0 - 1.0) < 0.05
    assert processed_spans(days) == [(days[0].t_start, days[1].t_end)]

    # a record gap at midnight keeps the two parts apart
    _, gapped = _two_days(wave, second_start_s=630.0)
    assert len(aggregate_days(gapped)) == 2
    assert len(processed_spans(gapped)) == 2

    other = sliding_time_array_fk_multifreq(
        plane_wave_stream(*ring_array(9, 1000.0), [], FS, 100.0),
        "A01",
        make_custom_fbands(1.0, 4.0, 10.0, 20.0, 0.5, "octave"),
        **GRID,
    )
    with pytest.raises(ValueError, match=r"2020-01-01T23:50:00.*different frequency bands"):
        aggregate_days([days[0], other])


def test_day_with_too_few_elements_has_no_window(tmp_path):
    st = plane_wave_stream(*ring_array(9, 1000.0), [], FS, 100.0)[:2]
    res = array_day_fk(st, "2020-01-01", BANDS, min_elements=3, **GRID)
    assert res.times.size == 0 and res.semblance.shape == (len(BANDS), 0)
    write_fk_hdf5(res, tmp_path / "empty.h5")
    back = read_fk_hdf5(tmp_path / "empty.h5")
    assert back.times.size == 0 and back.geometry.ids == ()
    assert back.t_start == UTCDateTime("2020-01-01").timestamp
    pd.testing.assert_frame_equal(back.f_bands, BANDS, check_dtype=False)
    det = aggregate_days([back])
    assert list(det.columns) == DETECTION_COLUMNS and len(det) == 0
    assert processed_spans([back]) == []
    full = array_day_fk(st, "2020-01-01", BANDS, min_elements=2, **GRID)
    assert full.times.size > 0


@pytest.fixture(scope="module")
def damaged_day(small_archive, tmp_path_factory):
    """Day 1 of the small demo with AR02 corrupt, a 10 s gap in AR03, AR04 at 40 Hz."""
    root = tmp_path_factory.mktemp("array") / "archive"
    shutil.copytree(small_archive, root)
    folder = root / "continuous_waveforms/2024/2024_001"
    (folder / "SYAR02_BHZ___2024001.ms").write_bytes(b"not miniSEED at all " * 200)
    ar03 = folder / "SYAR03_BHZ___2024001.ms"
    st = read(ar03)
    t = st[0].stats.starttime
    gapped = st.slice(t, t + 100.0) + st.slice(t + 110.0, None)
    gapped.write(ar03, format="MSEED")
    ar04 = folder / "SYAR04_BHZ___2024001.ms"
    st = read(ar04)
    st.resample(40.0)
    st.write(ar04, format="MSEED", encoding="FLOAT64")
    archive = Archive(ArchiveSpec(url=str(root)))
    manifest = build_manifest(archive, UTCDateTime("2024-01-01"), ALL)
    return root, archive, manifest


def test_bad_elements_are_skipped_or_repaired_and_named(damaged_day):
    root, archive, manifest = damaged_day
    st, problems = read_array_day(archive, manifest, ["AR*"], "BHZ")
    assert [tr.stats.station for tr in st] == [
        "AR01",
        "AR03",
        "AR05",
        "AR06",
        "AR07",
        "AR08",
        "AR09",
    ]
    reasons = {p["seed_id"]: p["reason"] for p in problems}
    assert set(reasons) == {"SY.AR02..BHZ", "SY.AR03..BHZ", "SY.AR04..BHZ"}
    assert "corrupt miniSEED" in reasons["SY.AR02..BHZ"]
    assert reasons["SY.AR03..BHZ"].startswith(f"{int(10 * FS) - 1} missing samples")
    assert "40 Hz" in reasons["SY.AR04..BHZ"] and "20 Hz" in reasons["SY.AR04..BHZ"]
    assert all(str(root) in p["object"] for p in problems)
    ar03 = st.select(station="AR03")[0]
    assert ar03.stats.npts == st.select(station="AR01")[0].stats.npts
    for tr in st:
        meta = manifest.channels[tr.id]
        assert tr.stats.coordinates.latitude == meta["latitude"]
        assert tr.stats.coordinates.elevation == meta["elevation_m"]

    # the plane waves of the day are still found by the seven remaining elements
    res = array_day_fk(st, manifest.day, BANDS, **GRID)
    assert res.geometry.ids == tuple(tr.id for tr in st)
    truth = read_plane_waves(root / "truth/plane_waves.csv")
    det = aggregate_days([res], min_duration_s=30.0)
    table = compare_with_truth(det, truth, processed_spans([res]), BANDS["win"].max())
    day_waves = table[table.status != "not processed"]
    assert len(day_waves) == int((truth.start < res.t_end).sum()) >= 1
    assert set(day_waves.status) == {"matched"}


def test_best_window_power_peak_is_the_plane_wave(small_archive):
    archive = Archive(ArchiveSpec(url=str(small_archive)))
    manifest = build_manifest(archive, UTCDateTime("2024-01-02"), ALL)
    st, problems = read_array_day(archive, manifest, ["AR*"], "BHZ")
    assert len(st) == 9 and problems == []
    res = array_day_fk(st, manifest.day, BANDS, **GRID)
    sx, sy, power, title = best_window_power([res], [manifest], ["AR*"], "BHZ")
    assert title.startswith("2024-01-02 ")
    when = UTCDateTime(title.split(",")[0]).timestamp
    truth = read_plane_waves(small_archive / "truth/plane_waves.csv")
    wave = truth[(truth.start <= when) & (truth.end >= when)].iloc[0]
    ix, iy = np.unravel_index(np.argmax(power), power.shape)
    baz, vel = baz_velocity(sx[ix], sy[iy])
    assert _angle(baz, wave.backazimuth_deg) < 5.0
    assert abs(vel / wave.velocity_km_s - 1.0) < 0.05
    assert power.max() == pytest.approx(np.nanmax(res.semblance), abs=0.05)


def test_compare_with_truth_statuses():
    t = 1.7e9
    truth = pd.DataFrame(
        {
            "start": [t + 100, t + 400, t + 700, t + 5000],
            "end": [t + 200, t + 500, t + 800, t + 5100],
            "backazimuth_deg": [3.0, 90.0, 200.0, 10.0],
            "velocity_km_s": [4.0, 5.0, 3.0, 3.0],
        }
    )
    det = pd.DataFrame(
        {
            "start": [t + 95, t + 150, t + 690, t + 1500],
            "end": [t + 210, t + 190, t + 790, t + 1600],
            "backazimuth_deg": [358.5, 2.0, 209.0, 45.0],
            "velocity_km_s": [4.1, 4.0, 3.0, 3.0],
            "peak_semblance": [0.9, 0.8, 0.95, 0.7],
            "n_pixels": [40, 8, 30, 10],
        }
    )
    out = compare_with_truth(det, truth, [(t, t + 3600)], time_tol_s=20.0)
    assert list(out.status) == [
        "matched",
        "extra",
        "missed",
        "inaccurate",
        "not processed",
        "false",
    ]
    assert list(out.detection_index) == [0, 1, -1, 2, -1, 3]
    assert out.baz_error_deg.iloc[0] == pytest.approx(-4.5)
    assert out.velocity_error_rel.iloc[0] == pytest.approx(0.025)
    assert out.baz_error_deg.iloc[3] == pytest.approx(9.0)
    assert out.truth_start.iloc[0] == UTCDateTime(t + 100).isoformat() + "Z"
