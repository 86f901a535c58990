"""The whole demo model: the day-independent parts built once, and its description.

:class:`DemoModel` gathers what every day shares (sites, sources, amplitude scale); the
events and plane waves of a day come from :func:`.events.day_earthquakes` and
:func:`.planewaves.day_plane_waves`. :func:`describe_model` writes down every formula and
parameter for ``truth/model.json``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .ambient import PHASE_CHUNK, amplitude_scale
from .events import (
    EPICENTER_RADIUS_FRACTION,
    FREE_SURFACE,
    RADIATION_P,
    RADIATION_S,
    Earthquake,
    day_earthquakes,
)
from .layout import NoiseSources, Site, array_sites, network_sites, noise_sources
from .planewaves import PlaneWave, day_plane_waves
from .response import (
    NORMALIZATION_FREQUENCY_HZ,
    SENSOR_POLES,
    SENSOR_ZEROS,
    sensor_normalization_factor,
)
from .spec import DemoSpec, demo_days


@dataclass(frozen=True)
class DemoModel:
    """Day-independent parts of the demo.

    Attributes
    ----------
    spec
        The parameters it was built from.
    stations
        Broadband stations (role ``network``).
    array
        Array elements (role ``array``), the first at the array centre.
    sources
        Ambient-noise point sources.
    amplitude_scale
        ``A`` of the ambient field (:func:`.ambient.amplitude_scale`).
    """

    spec: DemoSpec
    stations: tuple[Site, ...]
    array: tuple[Site, ...]
    sources: NoiseSources
    amplitude_scale: float

    @property
    def sites(self) -> tuple[Site, ...]:
        """Stations then array elements."""
        return self.stations + self.array

    def earthquakes(self, day: int) -> list[Earthquake]:
        """Events of day ``day`` (index)."""
        return day_earthquakes(self.spec, self.stations, day)

    def plane_waves(self, day: int) -> list[PlaneWave]:
        """Plane waves of day ``day`` (index)."""
        return day_plane_waves(self.spec, day)


def build_model(spec: DemoSpec) -> DemoModel:
    """Build the day-independent parts of the demo.

    Parameters
    ----------
    spec
        Demo parameters.

    Returns
    -------
    DemoModel
    """
    stations = tuple(network_sites(spec))
    sources = noise_sources(spec, list(stations))
    return DemoModel(spec, stations, tuple(array_sites(spec)), sources,
                     amplitude_scale(spec, stations, sources))


def defects(spec: DemoSpec) -> dict:
    """What is broken on purpose, and where (``truth/defects.json``).

    Parameters
    ----------
    spec
        Demo parameters.

    Returns
    -------
    dict
        Keys ``gap``, ``missing_day``, ``sampling_rate``; a value is ``None`` when the
        defect is switched off or its day lies outside the archive.
    """
    days = demo_days(spec)
    out: dict = {"gap": None, "missing_day": None, "sampling_rate": None}
    if spec.gap_station and 0 <= spec.gap_day < spec.n_days:
        fs = spec.hh_sampling_rate_hz if spec.gap_station == spec.hh_station else \
            spec.sampling_rate_hz
        i0, i1 = gap_samples(spec, fs)
        t0 = days[spec.gap_day]
        out["gap"] = {
            "network": spec.network, "station": spec.gap_station, "location": "",
            "channel": ("HHZ" if spec.gap_station == spec.hh_station else "BHZ"),
            "day": str(t0.date), "start": str(t0 + i0 / fs), "end": str(t0 + i1 / fs),
            "gap_s": (i1 - i0) / fs,
            "description": "samples between start and end are missing; the file holds two "
                           "traces",
        }
    if spec.missing_station and 0 <= spec.missing_day < spec.n_days:
        out["missing_day"] = {
            "network": spec.network, "station": spec.missing_station,
            "day": str(days[spec.missing_day].date),
            "description": "no miniSEED file of this station on this day",
        }
    if spec.hh_station:
        out["sampling_rate"] = {
            "network": spec.network, "station": spec.hh_station,
            "channels": ["HHZ", "HHN", "HHE"], "sampling_rate_hz": spec.hh_sampling_rate_hz,
            "description": f"records at {spec.hh_sampling_rate_hz} Hz instead of "
                           f"{spec.sampling_rate_hz} Hz (BH?)",
        }
    return out


def gap_samples(spec: DemoSpec, sampling_rate_hz: float) -> tuple[int, int]:
    """Sample range ``[i0, i1)`` removed by the gap defect at the given sampling rate.

    The gap starts at 40 % of the written day and lasts
    ``min(spec.gap_length_s, 0.1 * spec.day_length_s)``.
    """
    i0 = round(0.4 * spec.day_length_s * sampling_rate_hz)
    length = min(spec.gap_length_s, 0.1 * spec.day_length_s)
    return i0, i0 + round(length * sampling_rate_hz)


def describe_model(model: DemoModel) -> dict:
    """Everything needed to check the workflow's branches (``truth/model.json``).

    Parameters
    ----------
    model
        The demo model.

    Returns
    -------
    dict
        JSON-serializable description: formulas, parameters, derived scale.
    """
    spec = model.spec
    return {
        "generator": "seismake.synth",
        "seed": spec.seed,
        "days": [str(t.date) for t in demo_days(spec)],
        "day_length_s": spec.day_length_s,
        "data_quantity": "ground velocity (m/s), recorded as int32 counts through the "
                         "StationXML response (spectrum multiplied by the complex response)",
        "fourier_convention": "X(f) = int x(t) exp(-2 pi i f t) dt (NumPy); each day is "
                              "synthesized on the bins f_k = k / day_length_s and is periodic "
                              "over the written day; days are independent realizations",
        "geodesy": "distances and azimuths: WGS84 geodesics (Vincenty inverse, as ObsPy's "
                   "gps2dist_azimuth); positions placed with a local equirectangular "
                   "projection about the network centre, rounded to 1e-6 degrees",
        "network_center": {"latitude": spec.center_lat, "longitude": spec.center_lon},
        "ambient_noise": {
            "recorded_by": "network stations only",
            "wave_type": "Rayleigh (fundamental mode), homogeneous medium",
            "phase_velocity_km_s": spec.phase_velocity_km_s,
            "q": spec.q,
            "density_kg_m3": spec.density_kg_m3,
            "hv_ratio": spec.hv_ratio,
            "greens_function": "G(w, r) = w / (4 rho v^2) sqrt(2 v / (pi w r)) "
                               "exp(-i w r / v + i pi / 4) exp(-w r / (2 v Q)), G(0) = 0 "
                               "(noisi's analytic far-field surface wave, velocity)",
            "field": "U_Z(f_k) = A sqrt(L/2) sum_s sqrt(weight_s area_s S(f_k)) G(f_k, r_s) "
                     "exp(i phi_sk), phi_sk uniform random per source, bin and day",
            "psd": "P_Z(f) = A^2 sum_s weight_s area_s S(f) |G(f, r_s)|^2 (one-sided, "
                   "(m/s)^2/Hz); cross-spectrum of receivers 1, 2: "
                   "A^2 sum_s weight_s area_s S(f) conj(G1) G2",
            "horizontals": "U_R = i hv U_Z per source (retrograde), N = -U_R cos(baz), "
                           "E = -U_R sin(baz), baz = azimuth from station to source",
            "source_spectrum": {
                "form": "S(f) = exp(-(f - mean_hz)^2 / (2 std_hz^2)) * W(f)",
                "mean_hz": spec.source_mean_hz,
                "std_hz": spec.source_std_hz,
                "window_hz": list(spec.source_window_hz),
                "window": "W = 0 outside [f0, f3], 1 in [f1, f2], cos^2 ramps",
            },
            "source_distribution": {
                "file": "noise_sources.csv",
                "background_weight": spec.background_weight,
                "blobs": [
                    {"latitude": b[0], "longitude": b[1], "sigma_km": b[2], "peak_weight": b[3]}
                    for b in spec.source_blobs
                ],
                "weight": "background + sum peak exp(-d^2 / (2 sigma^2)), d geodesic",
                "grid_step_km": spec.source_grid_step_km,
                "grid_half_width_km": spec.source_half_width_km,
                "min_source_distance_km": spec.min_source_distance_km,
                "point_sources": [list(p) for p in spec.point_sources],
                "n_sources": len(model.sources),
            },
            "amplitude_scale": model.amplitude_scale,
            "amplitude_rule": "A makes sqrt(mean over stations of int P_Z df) = noise_rms_m_s",
            "noise_rms_m_s": spec.noise_rms_m_s,
            "random_phase_chunk_bins": PHASE_CHUNK,
        },
        "incoherent_noise": {
            "network": "independent Gaussian noise per channel, flat PSD inside "
                       "incoherent_window_hz, RMS = incoherent_rel_rms * noise_rms_m_s",
            "incoherent_rel_rms": spec.incoherent_rel_rms,
            "incoherent_window_hz": list(spec.incoherent_window_hz),
            "array": "independent Gaussian noise per element, flat PSD inside window_hz",
            "array_noise_rms_m_s": spec.array_noise_rms_m_s,
            "array_noise_window_hz": list(spec.array_noise_window_hz),
        },
        "earthquakes": {
            "recorded_by": "network stations only",
            "file": "catalog.csv",
            "vp_km_s": spec.vp_km_s,
            "vs_km_s": spec.vs_km_s,
            "qp": spec.qp,
            "qs": spec.qs,
            "density_kg_m3": spec.density_kg_m3,
            "stress_drop_mpa": spec.stress_drop_mpa,
            "kappa_s": spec.kappa_s,
            "moment": "M0 = 10^(1.5 Mw + 9.1) N m",
            "corner_frequency": "fc = 0.4906 vs (stress_drop / M0)^(1/3) (Brune), P and S",
            "source_pulse": "causal Brune displacement wc^2 t exp(-wc t), ground velocity "
                            "recorded (jumps at the onset)",
            "level": "Omega0 = M0 Rad 2 / (4 pi rho c^3 R), R hypocentral distance",
            "radiation": {"P": RADIATION_P, "S": RADIATION_S},
            "free_surface_factor": FREE_SURFACE,
            "attenuation": "exp(-w R / (2 c Q)) exp(-pi kappa f) / (1 + i f / fmax)^2",
            "fmax_hz": spec.earthquake_fmax_hz,
            "arrivals": "t0 + R / vp and t0 + R / vs, straight rays, elevations ignored",
            "polarization": "P along the ray (Z cos i, R sin i); S half SV (R cos i, "
                            "Z -sin i), half SH (ObsPy's T), equal energy",
            "events_per_day": spec.events_per_day,
            "magnitude_range": list(spec.magnitude_range),
            "depth_range_km": list(spec.depth_range_km),
            "epicenters": f"uniform within {EPICENTER_RADIUS_FRACTION} x network radius "
                          "of the centre",
        },
        "array": {
            "stations": [s.station for s in model.array],
            "center": {"station": model.array[0].station,
                       "latitude": model.array[0].latitude,
                       "longitude": model.array[0].longitude},
            "records": "plane waves of plane_waves.csv plus independent noise only; no "
                       "ambient field, no earthquakes",
            "offsets": "east/north metres from the centre element, azimuthal equidistant on "
                       "WGS84 (columns east_m, north_m of stations.csv)",
            "delay": "arrival at t + s . r, s = -(sin baz, cos baz) / v (east, north)",
            "plane_wave": "Gaussian noise burst, Tukey envelope (0.2) from start to end, "
                          "band [fmin, fmax] with cos^2 ramps over the outer fifths, "
                          "amplitude = RMS ground velocity (m/s) between start and end",
            "plane_waves_per_day": spec.plane_waves_per_day,
        },
        "response": {
            "stages": ["STS-2-like sensor, M/S -> V", "digitizer, V -> COUNTS"],
            "zeros": [[z.real, z.imag] for z in SENSOR_ZEROS],
            "poles": [[p.real, p.imag] for p in SENSOR_POLES],
            "normalization_factor": sensor_normalization_factor(),
            "normalization_frequency_hz": NORMALIZATION_FREQUENCY_HZ,
            "sensor_gain_v_per_m_s": spec.sensor_gain_v_per_m_s,
            "digitizer_gain_counts_per_v": spec.digitizer_gain_counts_per_v,
            "sensitivity_counts_per_m_s": spec.sensor_gain_v_per_m_s
            * spec.digitizer_gain_counts_per_v,
        },
        "defects": defects(spec),
        "spec": asdict(spec),
    }
