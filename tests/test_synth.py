"""The demo archive: determinism, SCEDC layout, defects, and its physics against the truth.

Reference values come from ObsPy (geodesics, evalresp, response removal, rotation, gaps)
and from the formulas of truth/model.json re-implemented here.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import obspy
import pandas as pd
import pytest
from obspy.geodetics import gps2dist_azimuth
from obspy.signal.cross_correlation import correlate
from obspy.signal.rotate import rotate_ne_rt

from seismake.synth import (
    DemoSpec,
    build_model,
    channel_response,
    demo_days,
    geodesic_inverse,
    greens_velocity,
    response_values,
    write_demo_archive,
)
from seismake.synth.spectra import greens_amplitude_factors, greens_velocity_power

SMALL = DemoSpec(seed=11, n_days=3, day_length_s=600.0, source_grid_step_km=50.0)
#: leaves the 0.05-2 Hz source band untouched, removes the drift below it
PRE_FILT = (0.01, 0.03, 4.0, 6.0)
NAME = re.compile(r"^(SY)([A-Z0-9_]{5})([BH]H[ZNE])(___)(\d{4})(\d{3})\.ms$")


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _waveforms(root: Path, day: int | None = None) -> dict[str, bytes]:
    files = {k: v for k, v in _files(root).items() if k.startswith("continuous_waveforms")}
    if day is None:
        return files
    return {k: v for k, v in files.items() if f"_{day + 1:03d}/" in k}


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "a"
    write_demo_archive(root, SMALL)
    return root


@pytest.fixture(scope="module")
def single_source(tmp_path_factory) -> tuple[Path, DemoSpec]:
    """One point source west of the network, no incoherent noise, no events."""
    spec = DemoSpec(
        seed=3,
        n_days=1,
        day_length_s=1800.0,
        point_sources=((33.2, -119.6),),
        incoherent_rel_rms=0.0,
        events_per_day=0,
        gap_station="",
        missing_station="",
    )
    root = tmp_path_factory.mktemp("synth") / "one"
    write_demo_archive(root, spec)
    return root, spec


def _read_day(root: Path, pattern: str) -> obspy.Stream:
    st = obspy.Stream()
    for path in sorted(root.glob(f"continuous_waveforms/*/*/{pattern}")):
        st += obspy.read(str(path))
    return st


def _inventory(root: Path) -> obspy.Inventory:
    return obspy.read_inventory(str(root / "FDSNstationXML" / "SY" / "*.xml"))


def _lag_s(a: np.ndarray, b: np.ndarray, fs: float, up: int = 32) -> float:
    """Lag (s) maximizing the correlation of b against a, zero-padded, upsampled."""
    n = a.size + b.size
    spec = np.conj(np.fft.rfft(a, n)) * np.fft.rfft(b, n)
    cc = np.fft.irfft(spec, n * up)
    lags = np.arange(n * up) / (fs * up)
    lags[lags > n / (2 * fs)] -= n / fs
    return float(lags[np.argmax(cc)])


# --- library pieces against references -----------------------------------------------------


def test_geodesic_matches_obspy():
    gen = np.random.default_rng(0)
    lat1, lat2 = gen.uniform(30, 38, (2, 40))
    lon1, lon2 = gen.uniform(-122, -113, (2, 40))
    dist, az, baz = geodesic_inverse(lat1, lon1, lat2, lon2)
    ref = np.array([gps2dist_azimuth(*x) for x in zip(lat1, lon1, lat2, lon2, strict=True)])
    np.testing.assert_allclose(dist, ref[:, 0], atol=1e-3)
    np.testing.assert_allclose(az, ref[:, 1], atol=1e-8)
    np.testing.assert_allclose(baz, ref[:, 2], atol=1e-8)


def test_response_matches_evalresp():
    spec = DemoSpec()
    resp = channel_response(spec, 20.0)
    f = np.linspace(0.001, 10.0, 3001)
    np.testing.assert_allclose(
        response_values(resp, f),
        resp.get_evalresp_response_for_frequencies(f, output="VEL"),
        rtol=1e-9,
    )
    sens = spec.sensor_gain_v_per_m_s * spec.digitizer_gain_counts_per_v
    assert abs(response_values(resp, np.array([1.0]))[0]) == pytest.approx(sens, rel=1e-9)


def test_greens_function_forms_agree():
    f = np.linspace(0.0, 2.0, 401)[:, None]
    r = np.array([5e3, 50e3, 250e3])[None, :]
    v, q, rho = 3000.0, 200.0, 3000.0
    w = 2 * np.pi * f
    with np.errstate(divide="ignore", invalid="ignore"):
        noisi = np.where(w > 0, w / (4 * rho * v**2) * np.sqrt(2 * v / (np.pi * w * r))
                         * np.exp(-1j * w * r / v + 1j * np.pi / 4)
                         * np.exp(-w * r / (2 * v * q)), 0.0)
    g = greens_velocity(f, r, v, q, rho)
    np.testing.assert_allclose(g, noisi, rtol=1e-12, atol=0)
    np.testing.assert_allclose(greens_velocity_power(f, r, v, q, rho), np.abs(noisi) ** 2,
                               rtol=1e-12, atol=0)
    split = greens_amplitude_factors(f[:, 0], v, rho)[:, None] / np.sqrt(r) * np.exp(
        -w * r * (1j / v + 1 / (2 * v * q)))
    np.testing.assert_allclose(split, noisi, rtol=1e-12, atol=0)


def test_spec_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="midnight"):
        DemoSpec(start="2024-01-01T05:00:00")
    with pytest.raises(ValueError, match="hh_station"):
        DemoSpec(hh_station="S99")
    with pytest.raises(ValueError, match="whole number of samples"):
        DemoSpec(day_length_s=600.01)
    with pytest.raises(ValueError, match=r"day indices \[3\]"):
        write_demo_archive(tmp_path, DemoSpec(n_days=3, day_length_s=600.0), days=[3])


# --- determinism and layout -----------------------------------------------------------------


def test_same_spec_same_bytes_and_days_independent(small, tmp_path):
    first = _files(small)
    write_demo_archive(tmp_path / "b", SMALL)
    assert _files(tmp_path / "b") == first
    summary = write_demo_archive(tmp_path / "c", SMALL, days=[2])
    assert summary["days"] == [str(demo_days(SMALL)[2].date)]
    assert _waveforms(tmp_path / "c") == _waveforms(small, 2)
    # day 1 of a 2-day archive is day 1 of the 3-day one
    two = dataclasses.replace(SMALL, n_days=2)
    write_demo_archive(tmp_path / "d", two, days=[1])
    assert _waveforms(tmp_path / "d") == _waveforms(small, 1)
    # rewriting changes nothing on disk
    again = write_demo_archive(small, SMALL, days=[0])
    assert again["written"] == [] and len(again["files"]) > 0
    other = write_demo_archive(tmp_path / "e", dataclasses.replace(SMALL, seed=12), days=[0])
    assert _waveforms(tmp_path / "e") != _waveforms(small, 0)
    assert other["stations"] == again["stations"]


def test_scedc_names_and_stationxml(small):
    days = demo_days(SMALL)
    names = [p.name for p in small.glob("continuous_waveforms/*/*/*.ms")]
    assert all(NAME.match(n) and len(n) == len("CIGSC__BHZ___2017180.ms") for n in names), names
    assert "SYS01__BHZ___2024001.ms" in names and "SYAR01_BHZ___2024003.ms" in names
    for name in names:
        year, doy = NAME.match(name).group(5, 6)
        dirs = next(small.glob(f"continuous_waveforms/{year}/{year}_{doy}/{name}"))
        assert dirs.is_file()
        assert obspy.UTCDateTime(year=int(year), julday=int(doy)) in days
    stations = pd.read_csv(small / "truth" / "stations.csv", keep_default_na=False)
    inv = _inventory(small)
    one = obspy.read_inventory(str(small / "FDSNstationXML" / "SY" / "SY_S01.xml"))
    assert one.created == obspy.UTCDateTime(SMALL.start)
    assert len(stations) == SMALL.n_stations + SMALL.n_array
    now = str(obspy.UTCDateTime.now().date)
    for row in stations.itertuples():
        xml = (small / "FDSNstationXML" / "SY" / f"SY_{row.station}.xml").read_text()
        assert now not in xml
        sta = inv.select(station=row.station)[0][0]
        assert (sta.latitude, sta.longitude, sta.elevation) == (
            row.latitude,
            row.longitude,
            row.elevation_m,
        )
        assert sorted(c.code for c in sta.channels) == sorted(row.channels.split())
        for cha in sta.channels:
            assert cha.sample_rate == row.sampling_rate_hz
            assert (cha.azimuth, cha.dip) == {"Z": (0.0, -90.0), "N": (0.0, 0.0), "E": (90.0, 0.0)}[
                cha.code[-1]
            ]
            resp = cha.response
            stated = resp.instrument_sensitivity.value
            resp.recalculate_overall_sensitivity(1.0)
            assert resp.instrument_sensitivity.value == pytest.approx(stated, rel=1e-6)
            assert resp.instrument_sensitivity.input_units == "M/S"
            assert resp.response_stages[-1].output_units == "COUNTS"


def test_defects_present(small):
    defects = json.loads((small / "truth" / "defects.json").read_text())
    gap = defects["gap"]
    st = _read_day(small, f"SY{gap['station']:_<5}BHZ___{SMALL.start[:4]}002.ms")
    assert len(st) == 2
    gaps = st.get_gaps()
    assert len(gaps) == 1
    expected = min(SMALL.gap_length_s, 0.1 * SMALL.day_length_s)
    assert gaps[0][6] == pytest.approx(expected, abs=1e-6)
    assert gaps[0][7] == round(expected * SMALL.sampling_rate_hz)
    assert (
        gaps[0][4] > obspy.UTCDateTime(gap["day"])
        and gaps[0][5] < obspy.UTCDateTime(gap["day"]) + SMALL.day_length_s
    )
    last_before = obspy.UTCDateTime(gap["start"]) - 1 / SMALL.sampling_rate_hz
    assert abs(gaps[0][4] - last_before) < 1e-6
    missing = defects["missing_day"]["station"]
    assert not list(small.glob(f"continuous_waveforms/*/*_003/SY{missing:_<5}*"))
    assert len(list(small.glob(f"continuous_waveforms/*/*_002/SY{missing:_<5}*"))) == 3
    hh = _read_day(small, f"SY{defects['sampling_rate']['station']:_<5}HH?___*.ms")
    assert len(hh) == 3 * SMALL.n_days
    assert {tr.stats.sampling_rate for tr in hh} == {40.0}
    assert {tr.stats.npts for tr in hh} == {int(40 * SMALL.day_length_s)}
    assert not _read_day(small, f"SY{defects['sampling_rate']['station']:_<5}BH?*")


def test_counts_level(small):
    st = _read_day(small, "SYS0[1-8]__?HZ___*001.ms")
    rms = [tr.data.std() for tr in st]
    assert 1e3 < np.median(rms) < 1e4
    assert all(tr.data.dtype == np.int32 for tr in st)


# --- physics against the truth ------------------------------------------------------------


def test_single_source_travel_times_and_amplitude(single_source):
    root, spec = single_source
    model = json.loads((root / "truth" / "model.json").read_text())
    noise = model["ambient_noise"]
    v = noise["phase_velocity_km_s"] * 1e3
    src = pd.read_csv(root / "truth" / "noise_sources.csv")
    assert len(src) == 1
    lat_s, lon_s = src.latitude[0], src.longitude[0]
    inv = _inventory(root)
    st = _read_day(root, "SYS0*.ms")
    st.remove_response(inv, output="VEL", pre_filt=PRE_FILT, water_level=None, taper=False)
    z = st.select(component="Z")
    z.resample(20.0)
    dist = {}
    for tr in z:
        c = inv.get_coordinates(tr.id)
        dist[tr.stats.station] = gps2dist_azimuth(lat_s, lon_s, c["latitude"], c["longitude"])[0]
    ref = z[0]
    for tr in z[1:]:
        predicted = (dist[tr.stats.station] - dist[ref.stats.station]) / v
        measured = _lag_s(ref.data, tr.data, 20.0)
        assert measured == pytest.approx(predicted, abs=0.05), tr.id

    # RMS from P(f) = A^2 w a S(f) |G(f, r)|^2 on the bins k / L
    length = spec.day_length_s
    f = np.arange(1, int(length * 10)) / length
    mean, std = noise["source_spectrum"]["mean_hz"], noise["source_spectrum"]["std_hz"]
    f0, f1, f2, f3 = noise["source_spectrum"]["window_hz"]
    win = np.where(
        (f > f0) & (f < f3),
        np.sin(0.5 * np.pi * np.clip((f - f0) / (f1 - f0), 0, 1)) ** 2
        * np.sin(0.5 * np.pi * np.clip((f3 - f) / (f3 - f2), 0, 1)) ** 2,
        0.0,
    )
    shape = np.exp(-0.5 * ((f - mean) / std) ** 2) * win
    w = 2 * np.pi * f
    rho, q = noise["density_kg_m3"], noise["q"]
    rms2 = []
    for tr in z:
        r = dist[tr.stats.station]
        g2 = (w / (4 * rho * v**2)) ** 2 * 2 * v / (np.pi * w * r) * np.exp(-w * r / (v * q))
        psd = noise["amplitude_scale"] ** 2 * src.weight[0] * src.area_m2[0] * shape * g2
        expected = np.sqrt(np.sum(psd) / length)
        assert tr.data.std() == pytest.approx(expected, rel=0.02), tr.id
        rms2.append(tr.data.std() ** 2)
    assert np.sqrt(np.mean(rms2)) == pytest.approx(spec.noise_rms_m_s, rel=0.02)


def test_single_source_rayleigh_horizontals(single_source):
    root, spec = single_source
    src = pd.read_csv(root / "truth" / "noise_sources.csv")
    inv = _inventory(root)
    st = _read_day(root, "SYS01*.ms")
    st.remove_response(inv, output="VEL", pre_filt=PRE_FILT, water_level=None, taper=False)
    c = inv.get_coordinates(st[0].id)
    baz = gps2dist_azimuth(src.latitude[0], src.longitude[0], c["latitude"], c["longitude"])[2]
    radial, transverse = rotate_ne_rt(
        st.select(component="N")[0].data, st.select(component="E")[0].data, baz
    )
    vertical = st.select(component="Z")[0].data
    assert np.std(transverse) < 0.01 * np.std(radial)
    # U_R = i hv U_Z: compare spectra where the field has power
    zf, rf = np.fft.rfft(vertical), np.fft.rfft(radial)
    strong = np.abs(zf) > 0.1 * np.abs(zf).max()
    ratio = rf[strong] / zf[strong]
    np.testing.assert_allclose(ratio, 1j * spec.hv_ratio, atol=0.01)


def test_array_plane_wave_delays(small):
    waves = pd.read_csv(small / "truth" / "plane_waves.csv")
    stations = pd.read_csv(small / "truth" / "stations.csv", keep_default_na=False)
    model = json.loads((small / "truth" / "model.json").read_text())
    centre = model["array"]["center"]
    array = stations[stations.role == "array"].set_index("station")
    assert len(waves) == SMALL.plane_waves_per_day * SMALL.n_days
    day_ends = [t + SMALL.day_length_s for t in demo_days(SMALL)]
    inv = _inventory(small)
    velocity: dict[int, obspy.Stream] = {}
    for wave in waves.itertuples():
        start, end = obspy.UTCDateTime(wave.start), obspy.UTCDateTime(wave.end)
        assert any(
            t0 < start and end < t1 for t0, t1 in zip(demo_days(SMALL), day_ends, strict=True)
        )
        assert 2.5 <= wave.velocity_km_s <= 8.0 and 0.8 <= wave.fmin_hz < wave.fmax_hz <= 4.0
        if start.julday not in velocity:
            day = _read_day(small, f"SYAR??_BHZ___*{start.julday:03d}.ms")
            velocity[start.julday] = day.remove_response(inv, output="VEL", taper=False)
        st = velocity[start.julday].copy()
        ref = st.select(station="AR01")[0]
        assert ref.slice(start, end).data.std() == pytest.approx(wave.amplitude, rel=0.05)
        st.filter("bandpass", freqmin=wave.fmin_hz, freqmax=wave.fmax_hz, corners=4, zerophase=True)
        st.trim(start, end)
        baz = np.radians(wave.backazimuth_deg)
        slow = -np.array([np.sin(baz), np.cos(baz)]) / (wave.velocity_km_s * 1e3)
        for tr in st:
            d, az, _ = gps2dist_azimuth(
                centre["latitude"],
                centre["longitude"],
                array.loc[tr.stats.station, "latitude"],
                array.loc[tr.stats.station, "longitude"],
            )
            offset = d * np.array([np.sin(np.radians(az)), np.cos(np.radians(az))])
            predicted = float(slow @ offset)
            measured = _lag_s(ref.data, tr.data, tr.stats.sampling_rate)
            assert measured == pytest.approx(predicted, abs=0.01), tr.id


def test_array_records_no_coherent_energy_between_waves(small):
    waves = pd.read_csv(small / "truth" / "plane_waves.csv")
    st = _read_day(small, "SYAR0[12]_BHZ___*001.ms")
    end_first, start_second = obspy.UTCDateTime(waves.end[0]), obspy.UTCDateTime(waves.start[1])
    quiet = st.slice(end_first + 5, start_second - 5)
    assert quiet[0].stats.npts > 20 * 30
    a, b = (tr.data.astype(float) - tr.data.mean() for tr in quiet)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.2
    assert np.abs(correlate(a, b, 20)).max() < 0.2
    loud = st.slice(obspy.UTCDateTime(waves.start[0]), end_first)
    a, b = (tr.data.astype(float) for tr in loud)
    assert np.abs(correlate(a, b, 20)).max() > 0.5
    assert np.std(a) > 3 * np.std(quiet[0].data)


def test_earthquake_p_arrivals(tmp_path):
    spec = DemoSpec(
        seed=5, n_days=1, day_length_s=600.0, source_grid_step_km=50.0, magnitude_range=(3.0, 3.5)
    )
    write_demo_archive(tmp_path, spec)
    catalog = pd.read_csv(tmp_path / "truth" / "catalog.csv")
    model = json.loads((tmp_path / "truth" / "model.json").read_text())
    vp, vs = model["earthquakes"]["vp_km_s"] * 1e3, model["earthquakes"]["vs_km_s"] * 1e3
    assert len(catalog) == spec.events_per_day
    assert set(catalog.event_type) == {"earthquake"}
    inv = _inventory(tmp_path)
    st = _read_day(tmp_path, "SYS0*.ms")
    st.remove_response(inv, output="VEL", taper=False)
    for ev in catalog.itertuples():
        t0 = obspy.UTCDateTime(ev.time)
        assert 3.0 <= ev.magnitude <= 3.5 and 3.0 <= ev.depth_km <= 15.0
        hyp = {}
        for tr in st.select(component="Z"):
            c = inv.get_coordinates(tr.id)
            epi = gps2dist_azimuth(ev.latitude, ev.longitude, c["latitude"], c["longitude"])[0]
            hyp[tr.id] = np.hypot(epi, ev.depth_km * 1e3)
            assert t0 + hyp[tr.id] / vs < demo_days(spec)[0] + spec.day_length_s
        nearest = min(hyp, key=hyp.get)
        tr = (
            st.select(id=nearest)[0].copy().filter("highpass", freq=1.0, corners=4, zerophase=False)
        )
        fs = tr.stats.sampling_rate
        times = tr.times(reftime=t0)
        noise = tr.data[(times > -25) & (times < -5)].std()
        between = (times > 0) & (times < hyp[nearest] / vs - 0.5)
        onset = times[between][np.argmax(np.abs(tr.data[between]) > 10 * noise)]
        assert onset == pytest.approx(hyp[nearest] / vp, abs=2.0 / fs), nearest
        raw = st.select(id=nearest)[0]
        snr = np.abs(
            raw.data[(raw.times(reftime=t0) > 0) & (raw.times(reftime=t0) < hyp[nearest] / vs + 10)]
        ).max()
        assert (
            snr > 10 * raw.data[(raw.times(reftime=t0) > -25) & (raw.times(reftime=t0) < -5)].std()
        )


def test_model_geometry_matches_truth(small):
    model = build_model(SMALL)
    stations = pd.read_csv(small / "truth" / "stations.csv", keep_default_na=False)
    net = stations[stations.role == "network"]
    dist, _, _ = geodesic_inverse(
        net.latitude.values[:, None],
        net.longitude.values[:, None],
        net.latitude.values[None],
        net.longitude.values[None],
    )
    off = dist[~np.eye(len(net), dtype=bool)]
    assert off.min() >= SMALL.min_separation_km * 1e3
    assert off.max() < 2 * SMALL.network_radius_km * 1e3
    sources = pd.read_csv(small / "truth" / "noise_sources.csv")
    assert len(sources) == len(model.sources)
    assert sources.weight.max() > 5 * sources.weight.min()
    arr = stations[stations.role == "array"]
    span, _, _ = geodesic_inverse(
        arr.latitude.values[:, None],
        arr.longitude.values[:, None],
        arr.latitude.values[None],
        arr.longitude.values[None],
    )
    assert 1.5e3 < span.max() < 3e3 and len(arr) >= 7
