"""The knobs of the demo archive: :class:`DemoSpec`, the day list and the random streams.

Every random number of the demo comes from a NumPy ``PCG64`` generator seeded with
``SeedSequence([seed, stream, *keys])``: ``stream`` names what the numbers are for
(:class:`RandomStream`) and ``keys`` say which day, chunk or channel they belong to. Station
positions and the noise-source grid use no day key, so they depend on the seed only;
everything recorded on day ``k`` uses ``k`` as its first key, so a day's content does not
depend on ``n_days`` nor on which other days are written.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
from obspy import UTCDateTime


class RandomStream(enum.IntEnum):
    """Independent random streams of the demo (the second entry of the seed sequence)."""

    NETWORK_LAYOUT = 1
    ARRAY_LAYOUT = 2
    NOISE_PHASES = 3
    INCOHERENT_NOISE = 4
    EARTHQUAKES = 5
    PLANE_WAVES = 6
    PLANE_WAVE_SIGNAL = 7
    ARRAY_NOISE = 8


@dataclass(frozen=True)
class DemoSpec:
    """All parameters of the demo archive; the defaults give the embedded demo.

    Times are UTC; lengths in km unless the name says otherwise; velocities in km/s;
    ground motion in m/s. Each ``*_window_hz`` is a 4-corner band window
    ``(f0, f1, f2, f3)``: zero outside ``[f0, f3]``, one inside ``[f1, f2]``, cos^2 ramps
    between. Station codes given for a defect may be ``""`` to leave that defect out.

    Attributes
    ----------
    seed, start, n_days, day_length_s
        Master seed; first day (ISO date, midnight UTC); number of days; seconds of data
        written per day file from 00:00 (at most 86400).
    network, center_lat, center_lon
        Network code of every station; centre of the network (degrees).
    n_stations, network_radius_km, min_separation_km
        Broadband stations ``S01``... placed at random in a disc of this radius about the
        centre, no two closer than ``min_separation_km``.
    elevation_range_m
        Station elevations are uniform in this range (metres).
    sampling_rate_hz, hh_station, hh_sampling_rate_hz
        ``BH?`` channels at ``sampling_rate_hz``; ``hh_station`` records ``HH?`` channels at
        ``hh_sampling_rate_hz`` instead (a defect the workflow must handle).
    n_array, array_aperture_km, array_offset_km, array_sampling_rate_hz
        Array ``AR01``... (``BHZ`` only): one element at the array centre, the others on
        two rings of radius 0.2 and 0.5 times the aperture; the array centre lies within
        ``array_offset_km`` of the network centre.
    phase_velocity_km_s, q, density_kg_m3, hv_ratio
        Homogeneous medium of the ambient noise field (Rayleigh waves): phase velocity,
        quality factor, density, horizontal-to-vertical amplitude ratio.
    source_mean_hz, source_std_hz, source_window_hz
        Source power spectrum: Gaussian (mean, standard deviation) times the band window.
    source_grid_step_km, source_half_width_km, min_source_distance_km
        Noise sources on a square grid (step, half width about the centre); grid points
        closer than ``min_source_distance_km`` to a station are left out.
    background_weight, source_blobs
        Source weights: the background plus, for each blob ``(lat, lon, sigma_km, peak)``,
        ``peak * exp(-d^2 / (2 sigma^2))``.
    point_sources
        When not empty, ``(lat, lon)`` points that replace the grid (weight 1, area
        ``source_grid_step_km ** 2``).
    noise_rms_m_s
        RMS vertical ground velocity of the ambient field, averaged over the network.
    incoherent_rel_rms, incoherent_window_hz
        Independent noise added to every network channel: flat PSD inside the window, RMS
        ``incoherent_rel_rms * noise_rms_m_s``.
    events_per_day, magnitude_range, depth_range_km
        Local earthquakes per day, uniform magnitude and depth ranges.
    vp_km_s, vs_km_s, qp, qs, stress_drop_mpa, kappa_s, earthquake_fmax_hz
        Body waves: velocities, quality factors, Brune stress drop, site kappa (s), corner
        of the causal two-pole high-cut of the ground motion (Hanks' fmax, Hz).
    plane_waves_per_day, plane_wave_velocity_range_km_s, plane_wave_band_hz,
    plane_wave_duration_range_s, plane_wave_snr_range
        Transient plane waves on the array: count per day, apparent velocity range, band
        (``fmin`` is drawn from its lowest and ``fmax`` from its highest third), duration
        (at most half the day divided by the count), RMS amplitude relative to
        ``array_noise_rms_m_s``.
    array_noise_rms_m_s, array_noise_window_hz
        Independent noise of every array element: RMS and band window (flat spectrum).
    sensor_gain_v_per_m_s, digitizer_gain_counts_per_v
        Stage gains of the response (at 1 Hz).
    gap_station, gap_day, gap_length_s
        Defect: ``gap_station``'s vertical channel lacks ``min(gap_length_s, 0.1 *
        day_length_s)`` seconds from 40 % of day ``gap_day``.
    missing_station, missing_day
        Defect: no files at all for ``missing_station`` on day ``missing_day``. Defect days
        are fixed indices, not "the last day", so a day's content does not depend on
        ``n_days``; a defect whose day lies outside the archive is simply absent.
    record_length
        miniSEED record length in bytes (512 or 4096).
    """

    seed: int = 42
    start: str = "2024-01-01"
    n_days: int = 3
    day_length_s: float = 86400.0
    network: str = "SY"
    center_lat: float = 34.0
    center_lon: float = -117.5
    n_stations: int = 8
    network_radius_km: float = 125.0
    min_separation_km: float = 20.0
    elevation_range_m: tuple[float, float] = (150.0, 900.0)
    sampling_rate_hz: float = 20.0
    hh_station: str = "S06"
    hh_sampling_rate_hz: float = 40.0
    n_array: int = 9
    array_aperture_km: float = 2.0
    array_offset_km: float = 25.0
    array_sampling_rate_hz: float = 20.0
    phase_velocity_km_s: float = 3.0
    q: float = 200.0
    density_kg_m3: float = 3000.0
    hv_ratio: float = 0.68
    source_mean_hz: float = 0.2
    source_std_hz: float = 0.12
    source_window_hz: tuple[float, float, float, float] = (0.05, 0.08, 1.5, 2.0)
    source_grid_step_km: float = 25.0
    source_half_width_km: float = 250.0
    min_source_distance_km: float = 10.0
    background_weight: float = 1.0
    source_blobs: tuple[tuple[float, float, float, float], ...] = (
        (33.25, -119.3, 40.0, 12.0),
        (34.25, -119.85, 50.0, 6.0),
    )
    point_sources: tuple[tuple[float, float], ...] = ()
    noise_rms_m_s: float = 1.0e-6
    incoherent_rel_rms: float = 0.1
    incoherent_window_hz: tuple[float, float, float, float] = (0.02, 0.05, 8.0, 9.0)
    events_per_day: int = 2
    magnitude_range: tuple[float, float] = (2.5, 4.0)
    depth_range_km: tuple[float, float] = (3.0, 15.0)
    vp_km_s: float = 6.0
    vs_km_s: float = 3.5
    qp: float = 600.0
    qs: float = 400.0
    stress_drop_mpa: float = 5.0
    kappa_s: float = 0.02
    earthquake_fmax_hz: float = 5.0
    plane_waves_per_day: int = 2
    plane_wave_velocity_range_km_s: tuple[float, float] = (2.5, 8.0)
    plane_wave_band_hz: tuple[float, float] = (0.8, 4.0)
    plane_wave_duration_range_s: tuple[float, float] = (60.0, 300.0)
    plane_wave_snr_range: tuple[float, float] = (5.0, 10.0)
    array_noise_rms_m_s: float = 1.0e-6
    array_noise_window_hz: tuple[float, float, float, float] = (0.02, 0.05, 8.0, 9.0)
    sensor_gain_v_per_m_s: float = 1500.0
    digitizer_gain_counts_per_v: float = 1677721.6
    gap_station: str = "S03"
    gap_day: int = 1
    gap_length_s: float = 600.0
    missing_station: str = "S04"
    missing_day: int = 2
    record_length: int = 4096

    def __post_init__(self) -> None:
        problems = []
        try:
            t0 = UTCDateTime(self.start)
        except Exception as exc:  # obspy raises several types for bad dates
            problems.append(f"start {self.start!r} is not an ISO date ({exc})")
        else:
            if t0 != UTCDateTime(t0.date):
                problems.append(f"start {self.start!r} is not midnight UTC")
        if self.n_days < 1:
            problems.append(f"n_days must be >= 1, got {self.n_days}")
        if not 0 < self.day_length_s <= 86400.0:
            problems.append(f"day_length_s must be in (0, 86400], got {self.day_length_s}")
        for name in ("sampling_rate_hz", "hh_sampling_rate_hz", "array_sampling_rate_hz"):
            fs = getattr(self, name)
            n = self.day_length_s * fs
            if fs <= 0 or abs(n - round(n)) > 1e-6:
                problems.append(f"{name}={fs} does not give a whole number of samples per day")
        if not 1 <= self.n_stations <= 99 or not 1 <= self.n_array <= 99:
            problems.append("n_stations and n_array must be in 1..99")
        names = self.station_codes
        for attr in ("hh_station", "gap_station", "missing_station"):
            code = getattr(self, attr)
            if code and code not in names:
                problems.append(f"{attr}={code!r} is not one of {names}")
        for attr in ("source_window_hz", "incoherent_window_hz", "array_noise_window_hz"):
            corners = getattr(self, attr)
            if len(corners) != 4 or corners[0] <= 0 or list(corners) != sorted(corners):
                problems.append(f"{attr} must be 4 increasing positive corners, got {corners}")
        nyq = 0.5 * min(self.sampling_rate_hz, self.hh_sampling_rate_hz)
        if max(self.source_window_hz[-1], self.incoherent_window_hz[-1]) >= nyq:
            problems.append("source or incoherent-noise window reaches the Nyquist frequency")
        nyq_array = 0.5 * self.array_sampling_rate_hz
        if max(self.array_noise_window_hz[-1], self.plane_wave_band_hz[1]) >= nyq_array:
            problems.append("array noise or plane-wave band reaches the array Nyquist frequency")
        if self.record_length not in (512, 4096):
            problems.append(f"record_length must be 512 or 4096, got {self.record_length}")
        positive = (
            "network_radius_km", "phase_velocity_km_s", "q", "density_kg_m3", "source_std_hz",
            "source_grid_step_km", "vp_km_s", "vs_km_s", "qp", "qs", "stress_drop_mpa",
            "earthquake_fmax_hz",
        )
        problems += [f"{name} must be > 0" for name in positive if getattr(self, name) <= 0]
        if len(self.network) != 2:
            problems.append(f"network code must have 2 characters, got {self.network!r}")
        if problems:
            raise ValueError("invalid DemoSpec: " + "; ".join(problems))

    @property
    def station_codes(self) -> list[str]:
        """Codes of the broadband stations, ``S01``..."""
        return [f"S{i + 1:02d}" for i in range(self.n_stations)]

    @property
    def array_codes(self) -> list[str]:
        """Codes of the array elements, ``AR01``..."""
        return [f"AR{i + 1:02d}" for i in range(self.n_array)]

    @property
    def start_time(self) -> UTCDateTime:
        """Midnight of the first day."""
        return UTCDateTime(self.start)


def demo_days(spec: DemoSpec) -> list[UTCDateTime]:
    """Midnight (UTC) of each day of the demo.

    Parameters
    ----------
    spec
        Demo parameters.

    Returns
    -------
    list of UTCDateTime
        ``spec.n_days`` times, one day apart, from ``spec.start``.
    """
    t0 = spec.start_time
    return [t0 + 86400 * k for k in range(spec.n_days)]


def rng(spec: DemoSpec, stream: RandomStream, *keys: int) -> np.random.Generator:
    """Random generator of one stream, seeded from ``(spec.seed, stream, *keys)``.

    Parameters
    ----------
    spec
        Demo parameters (only ``seed`` is used).
    stream
        What the numbers are for.
    *keys
        Non-negative integers: day index first, then chunk, site or channel indices.

    Returns
    -------
    numpy.random.Generator
        A fresh ``PCG64`` generator.
    """
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([spec.seed, stream, *keys])))
