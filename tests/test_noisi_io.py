"""File formats of the noisi branch: grid, wavefields (App. C), source models (App. D),
station lists (App. B), correlation SAC files (App. A), and their validation errors."""

import itertools

import h5py
import numpy as np
import pytest
from obspy import read as obspy_read
from obspy.geodetics import gps2dist_azimuth
from obspy.io.sac import SACTrace

from seismake.geodesy import geodesic_inverse
from seismake.noisi.greens import (
    Wavefield,
    WavefieldFileError,
    analytic_wavefield,
    frequency_axis,
    greens_filename,
    import_wavefield,
    read_wavefield,
    write_wavefield,
)
from seismake.noisi.grid import (
    GridFileError,
    make_grid,
    read_grid,
    write_grid,
)
from seismake.noisi.sacio import (
    CorrelationFileError,
    CorrelationTrace,
    correlation_filename,
    read_correlation_sac,
    write_correlation_sac,
)
from seismake.noisi.sources import (
    SourceDistribution,
    SourceModelError,
    gaussian_spectrum,
    make_source_model,
    read_source_model,
    write_source_model,
)
from seismake.noisi.stations import Station, StationListError, read_stations, write_stations

WGS84_AREA_M2 = 510065621.7e6  # surface area of the WGS84 ellipsoid (to 0.1 km^2)


def test_global_grid_covers_the_ellipsoid_once():
    grid = make_grid(-180.0, 180.0, -90.0, 90.0, 300e3)
    assert grid.surface_areas_m2.sum() == pytest.approx(WGS84_AREA_M2, rel=1e-6)
    assert np.all(grid.lon >= -180) and np.all(grid.lon < 180)


def test_regional_grid_has_equal_spacing_in_metres_and_equal_areas():
    step = 50e3
    grid = make_grid(5.0, 15.0, 40.0, 50.0, step)
    rows = np.unique(grid.lat)
    for lat in rows[[0, len(rows) // 2, -1]]:
        lon = grid.lon[grid.lat == lat]
        for a, b in itertools.pairwise(lon):
            assert gps2dist_azimuth(lat, a, lat, b)[0] == pytest.approx(step, rel=1e-4)
    for a, b in itertools.pairwise(rows):
        assert gps2dist_azimuth(a, 10.0, b, 10.0)[0] == pytest.approx(step, rel=1e-6)
    np.testing.assert_allclose(grid.surface_areas_m2, step**2, rtol=1e-3)
    assert grid.lon.min() >= 5.0 and grid.lon.max() <= 15.0
    assert grid.lat.min() >= 40.0 and grid.lat.max() <= 50.0
    assert grid.lat.max() - grid.lat.min() > 9.5


def test_geodesic_matches_obspy():
    rng = np.random.default_rng(3)
    lat1, lat2 = rng.uniform(-80, 80, (2, 200))
    lon1, lon2 = rng.uniform(-180, 180, (2, 200))
    dist, az, baz = geodesic_inverse(lat1, lon1, lat2, lon2)
    ref = np.array([gps2dist_azimuth(*p) for p in zip(lat1, lon1, lat2, lon2, strict=True)])
    np.testing.assert_allclose(dist, ref[:, 0], atol=0.05)
    np.testing.assert_allclose(((az - ref[:, 1]) + 180) % 360 - 180, 0, atol=1e-6)
    np.testing.assert_allclose(((baz - ref[:, 2]) + 180) % 360 - 180, 0, atol=1e-6)


def test_grid_roundtrip_and_error(tmp_path):
    grid = make_grid(0, 2, 0, 2, 50e3)
    write_grid(tmp_path / "grid.h5", grid)
    back = read_grid(tmp_path / "grid.h5")
    np.testing.assert_array_equal(back.lon, grid.lon)
    np.testing.assert_array_equal(back.surface_areas_m2, grid.surface_areas_m2)
    with h5py.File(tmp_path / "bad.h5", "w") as f:
        f.create_dataset("sourcegrid", data=grid.coordinates)
    with pytest.raises(GridFileError, match=r"bad\.h5.*surface_areas"):
        read_grid(tmp_path / "bad.h5")


@pytest.fixture
def small_grid():
    return make_grid(-1.0, 1.0, -1.0, 1.0, 40e3)


@pytest.mark.parametrize("fdomain", [False, True])
def test_wavefield_roundtrip_follows_appendix_c(tmp_path, small_grid, fdomain):
    wf = analytic_wavefield(
        small_grid, 0.2, 0.1, "XX.AAA..MXZ", 1.0, 64, 3000.0, 100.0, 3000.0, fdomain=fdomain
    )
    path = tmp_path / greens_filename("XX", "AAA", "MXZ")
    assert path.name == "XX.AAA..MXZ.h5"
    write_wavefield(path, wf)
    with h5py.File(path, "r") as f:
        assert set(f) == {"data", "sourcegrid", "stats"}
        attrs = dict(f["stats"].attrs)
        assert attrs["nt"] == wf.nt and attrs["ntraces"] == small_grid.size
        assert attrs["fdomain"] == int(fdomain) and attrs["data_quantity"] == "DIS"
        assert attrs["Fs"] == 1.0 and attrs["reference_station"] == "XX.AAA..MXZ"
        assert f["data"].shape == (small_grid.size, wf.nt)
        assert f["sourcegrid"].shape == (2, small_grid.size)
        assert f["data"].dtype in (np.float32, np.complex64)
    back = read_wavefield(path)
    assert back.fdomain == fdomain
    np.testing.assert_allclose(back.frequencies_hz, frequency_axis(64, 1.0))
    np.testing.assert_allclose(back.data, wf.data, rtol=1e-6, atol=1e-6 * np.abs(wf.data).max())
    # time- and frequency-domain storage describe the same Green's functions
    if fdomain:
        assert back.nt == 65 and back.n_fft == 128
    else:
        assert back.n_fft == 128


def _write_raw(path, data, grid, **overrides):
    attrs = {
        "Fs": 1.0,
        "data_quantity": "DIS",
        "fdomain": 0,
        "nt": data.shape[1],
        "ntraces": data.shape[0],
        "reference_station": "XX.AAA..MXZ",
    }
    attrs.update(overrides)
    with h5py.File(path, "w") as f:
        f.create_dataset("data", data=data)
        f.create_dataset("sourcegrid", data=grid)
        stats = f.create_dataset("stats", data=(0,))
        for key, value in attrs.items():
            if value is not None:
                stats.attrs[key] = value


def test_wavefield_validation_names_file_and_problem(tmp_path, small_grid):
    n = small_grid.size
    data = np.zeros((n, 32))
    path = tmp_path / "XX.BAD..MXZ.h5"
    _write_raw(path, data, small_grid.coordinates, nt=40)
    with pytest.raises(WavefieldFileError, match=r"XX\.BAD\.\.MXZ\.h5: data has shape"):
        read_wavefield(path)
    _write_raw(path, data, small_grid.coordinates, Fs=None)
    with pytest.raises(WavefieldFileError, match=r"XX\.BAD\.\.MXZ\.h5.*missing attribute.*Fs"):
        read_wavefield(path)
    _write_raw(path, data, small_grid.coordinates[:, :-1])
    with pytest.raises(WavefieldFileError, match=r"XX\.BAD\.\.MXZ\.h5: sourcegrid has shape"):
        read_wavefield(path)
    _write_raw(path, data, small_grid.coordinates, data_quantity="FOO")
    with pytest.raises(WavefieldFileError, match=r"XX\.BAD\.\.MXZ\.h5: data_quantity"):
        read_wavefield(path)
    _write_raw(path, data, small_grid.coordinates, fdomain=1)
    with pytest.raises(WavefieldFileError, match=r"XX\.BAD\.\.MXZ\.h5: fdomain is 1"):
        read_wavefield(path)
    with h5py.File(path, "w") as f:
        f.create_dataset("data", data=data)
    with pytest.raises(
        WavefieldFileError, match=r"XX\.BAD\.\.MXZ\.h5: missing dataset.*sourcegrid"
    ):
        read_wavefield(path)


def test_import_wavefield_interpolates_solver_output(small_grid):
    lon_s, lat_s = np.meshgrid(np.linspace(-2, 2, 21), np.linspace(-2, 2, 21))
    lon_s, lat_s = lon_s.ravel(), lat_s.ravel()
    nt = 16
    t = np.arange(nt)
    # a field linear in longitude and latitude is interpolated exactly
    data = (2.0 * lon_s - 3.0 * lat_s)[:, None] * np.cos(0.3 * t)[None, :]
    wf = import_wavefield(data, lon_s, lat_s, small_grid, 2.0, "VEL", "XX.AAA..MXZ")
    expected = (2.0 * small_grid.lon - 3.0 * small_grid.lat)[:, None] * np.cos(0.3 * t)[None, :]
    np.testing.assert_allclose(wf.data, expected, atol=1e-10)
    assert wf.fs_hz == 2.0 and wf.sourcegrid.shape == (2, small_grid.size)
    near = import_wavefield(
        data, lon_s, lat_s, small_grid, 2.0, "VEL", "XX.AAA..MXZ", method="nearest"
    )
    # nearest solver point is at most half a 0.2-degree mesh step away in each direction
    assert np.max(np.abs(near.data - expected)) <= (2.0 + 3.0) * 0.1 + 1e-12
    inner = (np.abs(lon_s) < 0.5) & (np.abs(lat_s) < 0.5)
    with pytest.raises(WavefieldFileError, match="outside the solver points"):
        import_wavefield(data[inner], lon_s[inner], lat_s[inner], small_grid, 2.0, "VEL", "X.A..Z")


def test_source_model_distributions_and_roundtrip(tmp_path):
    grid = make_grid(-3, 3, -3, 3, 30e3)
    freqs = np.fft.rfftfreq(256, d=1.0)
    sigma = 100e3
    model = make_source_model(
        grid,
        freqs,
        [
            SourceDistribution("homogeneous", 0.1, 0.05, 0.02, lon_range=(-10.0, 0.0)),
            SourceDistribution(
                "gaussian_blob", 1.0, 0.05, 0.02, center_lon=1.5, center_lat=0.5, sigma_m=sigma
            ),
            SourceDistribution("homogeneous", 0.3, 0.1, 0.01),
        ],
    )
    # equal spectra share one basis function, a new spectrum adds one
    assert model.model.shape == (grid.size, 2)
    np.testing.assert_allclose(model.spectral_basis[0], gaussian_spectrum(freqs, 0.05, 0.02))
    np.testing.assert_allclose(model.model[:, 1], 0.3)
    dist, _, _ = geodesic_inverse(0.5, 1.5, grid.lat, grid.lon)
    east = grid.lon > 0
    np.testing.assert_allclose(model.model[east, 0], np.exp(-(dist[east] ** 2) / (2 * sigma**2)))
    west = grid.lon <= 0
    np.testing.assert_allclose(
        model.model[west, 0], 0.1 + np.exp(-(dist[west] ** 2) / (2 * sigma**2))
    )
    path = tmp_path / "starting_model.h5"
    write_source_model(path, model)
    with h5py.File(path, "r") as f:
        assert set(f) == {"coordinates", "frequencies", "model", "spectral_basis", "surface_areas"}
        assert f["coordinates"].shape == (2, grid.size)
        assert f["spectral_basis"].shape == (2, freqs.size)
    back = read_source_model(path)
    np.testing.assert_array_equal(back.model, model.model)
    np.testing.assert_array_equal(back.psd(), model.psd())


def test_normalized_gaussian_spectrum_has_unit_integral():
    f = np.linspace(-1.0, 1.0, 200001)
    spec = gaussian_spectrum(f, 0.05, 0.02, normalize=True)
    assert np.trapezoid(spec, f) == pytest.approx(1.0, rel=1e-9)


def test_source_model_validation_names_file(tmp_path):
    path = tmp_path / "model.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("coordinates", data=np.zeros((2, 5)))
        f.create_dataset("frequencies", data=np.zeros(8))
        f.create_dataset("model", data=np.zeros((5, 2)))
        f.create_dataset("spectral_basis", data=np.zeros((3, 8)))
        f.create_dataset("surface_areas", data=np.ones(5))
    with pytest.raises(SourceModelError, match=r"model\.h5: spectral_basis has shape"):
        read_source_model(path)
    with h5py.File(path, "a") as f:
        del f["surface_areas"]
    with pytest.raises(SourceModelError, match=r"model\.h5: missing dataset.*surface_areas"):
        read_source_model(path)


def test_station_list_roundtrip_and_errors(tmp_path):
    stations = [Station("G", "CAN", -35.318715, 148.996325), Station("XX", "B", 1.5, -2.25)]
    path = tmp_path / "stationlist.csv"
    write_stations(path, stations)
    assert path.read_text().splitlines()[:2] == ["net,sta,lat,lon", "G,CAN,-35.318715,148.996325"]
    assert read_stations(path) == stations
    assert stations[0].seed_id("MXZ") == "G.CAN..MXZ"
    bad = tmp_path / "bad.csv"
    bad.write_text("net,sta,lat\nG,CAN,1.0\n")
    with pytest.raises(StationListError, match=r"bad\.csv: missing column.*lon"):
        read_stations(bad)
    bad.write_text("net,sta,lat,lon\nG,CAN,1.0,2.0\nG,CAN,3.0,4.0\n")
    with pytest.raises(StationListError, match=r"bad\.csv: duplicate station.*G\.CAN"):
        read_stations(bad)


def _trace(data):
    return CorrelationTrace(
        data=data,
        delta_s=0.5,
        begin_s=-0.5 * (data.size // 2),
        station1="XX.AAA..MXZ",
        station2="YY.BBB.00.MXZ",
        lat1=10.0,
        lon1=20.0,
        lat2=10.5,
        lon2=21.0,
        n_stacked=48.0,
        window_length_s=3600.0,
        window_overlap=0.5,
        first_day="2020001",
        last_day="2020031",
    )


def test_sac_appendix_a_headers(tmp_path):
    data = np.sin(np.linspace(0, 6, 201))
    trace = _trace(data)
    path = tmp_path / correlation_filename(trace.station1, trace.station2)
    assert path.name == "XX.AAA..MXZ--YY.BBB.00.MXZ.sac"
    write_correlation_sac(path, trace)
    sac = obspy_read(str(path))[0].stats.sac
    dist, az, baz = gps2dist_azimuth(10.0, 20.0, 10.5, 21.0)
    assert sac.b == pytest.approx(-50.0) and sac.e == pytest.approx(50.0)
    assert (sac.stla, sac.stlo, sac.evla, sac.evlo) == (10.0, 20.0, 10.5, 21.0)
    assert sac.dist == pytest.approx(dist, rel=1e-6)
    assert sac.az == pytest.approx(az, abs=1e-4) and sac.baz == pytest.approx(baz, abs=1e-4)
    assert (sac.user0, sac.user1, sac.user2) == (48.0, 3600.0, 0.5)
    assert (sac.knetwk, sac.kstnm, sac.kcmpnm) == ("XX", "AAA", "MXZ")
    assert (sac.kuser0, sac.kevnm, sac.kuser1, sac.kuser2) == ("YY", "BBB", "00", "MXZ")
    assert (sac.kt0, sac.kt1) == ("2020001", "2020031")
    observed = read_correlation_sac(path)
    np.testing.assert_allclose(observed.data, data.astype(np.float32) / 48.0, rtol=1e-6)
    assert observed.station1 == trace.station1 and observed.station2 == trace.station2
    np.testing.assert_allclose(observed.lags_s, np.arange(-100, 101) * 0.5)
    modelled = read_correlation_sac(path, observed=False)
    np.testing.assert_allclose(modelled.data, data, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("header", ["kevnm", "kuser0", "stla", "evlo", "dist", "user0"])
def test_sac_missing_essential_header_names_file_and_header(tmp_path, header):
    headers = {
        "delta": 0.5,
        "b": -5.0,
        "stla": 1.0,
        "stlo": 2.0,
        "evla": 3.0,
        "evlo": 4.0,
        "dist": 1000.0,
        "user0": 2.0,
        "knetwk": "XX",
        "kstnm": "AAA",
        "kcmpnm": "MXZ",
        "kuser0": "XX",
        "kevnm": "BBB",
        "kuser2": "MXZ",
        "lcalda": False,
    }
    del headers[header]
    path = tmp_path / "pair.sac"
    SACTrace(data=np.zeros(21, dtype=np.float32), **headers).write(str(path))
    with pytest.raises(
        CorrelationFileError, match=rf"pair\.sac: missing essential SAC header '{header}'"
    ):
        read_correlation_sac(path)


def test_sac_nonpositive_user0_is_an_error(tmp_path):
    trace = _trace(np.ones(11))
    trace.n_stacked = 0.0
    write_correlation_sac(tmp_path / "p.sac", trace)
    with pytest.raises(CorrelationFileError, match=r"p\.sac: SAC header 'user0' must be positive"):
        read_correlation_sac(tmp_path / "p.sac")
    assert read_correlation_sac(tmp_path / "p.sac", observed=False).n_stacked == 0.0


def test_wavefield_write_rejects_inconsistent_arrays(tmp_path, small_grid):
    wf = Wavefield(np.zeros((3, 8)), small_grid.coordinates, 1.0, "DIS", False, "XX.A..Z")
    with pytest.raises(WavefieldFileError, match=r"w\.h5: sourcegrid has shape"):
        write_wavefield(tmp_path / "w.h5", wf)
    assert not (tmp_path / "w.h5").exists()
